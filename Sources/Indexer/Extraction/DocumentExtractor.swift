import Foundation

/// How extracting one blob ended; `oaken index` counts files by it.
package enum ExtractionOutcome: String, Sendable, CaseIterable, Codable {
    case indexed
    case emptyText = "empty-text"
    case encrypted
    case damaged
    case timedOut = "timed-out"
    case crashed
    case tooLarge = "too-large"
    case unsupported
}

/// The outcome of extracting one blob, with its text when there is any.
package struct ExtractionResult: Sendable, Equatable {
    package var outcome: ExtractionOutcome
    package var mediaType: String
    package var text: ExtractedText?
    package var detail: String?
}

/// Picks the extractor for a file by sniffing its bytes, and turns every failure into an
/// outcome: extraction of one file never throws and never stops the caller.
package struct DocumentExtractor: Sendable {
    package let pdf: any TextExtractor
    package let html: any TextExtractor
    package let text: any TextExtractor
    package let limits: ExtractionLimits

    /// `pdf` and `html` are normally `WorkerExtractor`s, so that poppler and libxml2 run out
    /// of process, each document under a wall-clock and memory limit.
    package init(pdf: any TextExtractor, html: any TextExtractor = HTMLTextExtractor(), limits: ExtractionLimits = .standard) {
        self.pdf = pdf
        self.html = html
        self.text = PlainTextExtractor()
        self.limits = limits
    }

    /// PDFs and HTML extracted by workers of the `oaken` binary at `executable`
    /// (`oaken extract-worker`).
    package static func isolated(executable: String, limits: ExtractionLimits = .standard) -> DocumentExtractor {
        let command = [executable, "extract-worker"]
        return DocumentExtractor(
            pdf: WorkerExtractor(command: command, format: .pdf), html: WorkerExtractor(command: command, format: .html),
            limits: limits)
    }

    package func extract(fileAt path: String) -> ExtractionResult {
        let head = Self.head(of: path)
        let mediaType = MediaTypeSniffer.mediaType(of: head)
        if head.isEmpty {
            return ExtractionResult(outcome: .emptyText, mediaType: mediaType, text: nil, detail: "zero bytes")
        }
        let extractor: any TextExtractor
        switch mediaType {
        case "application/pdf": extractor = pdf
        case "text/html", "application/xhtml+xml": extractor = html
        case "text/plain": extractor = text
        default:
            return ExtractionResult(outcome: .unsupported, mediaType: mediaType, text: nil, detail: nil)
        }
        do {
            let extracted = try extractor.extract(fileAt: path, limits: limits)
            if extracted.isEmpty {
                return ExtractionResult(
                    outcome: .emptyText, mediaType: mediaType, text: extracted,
                    detail: extracted.pageCount > 0 ? "\(extracted.pageCount) pages without text" : nil)
            }
            return ExtractionResult(outcome: .indexed, mediaType: mediaType, text: extracted, detail: extracted.truncated ? "truncated" : nil)
        } catch {
            switch error {
            case .encrypted: return ExtractionResult(outcome: .encrypted, mediaType: mediaType, detail: "needs a password")
            case .damaged(let why): return ExtractionResult(outcome: .damaged, mediaType: mediaType, detail: why)
            case .tooLarge(let size): return ExtractionResult(outcome: .tooLarge, mediaType: mediaType, detail: "\(size) bytes")
            case .timedOut:
                return ExtractionResult(outcome: .timedOut, mediaType: mediaType, detail: "over \(limits.timeout) s")
            case .crashed(let why): return ExtractionResult(outcome: .crashed, mediaType: mediaType, detail: why)
            }
        }
    }

    private static func head(of path: String) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: 8192)) ?? Data())
    }
}

extension ExtractionResult {
    init(outcome: ExtractionOutcome, mediaType: String, detail: String?) {
        self.init(outcome: outcome, mediaType: mediaType, text: nil, detail: detail)
    }
}
