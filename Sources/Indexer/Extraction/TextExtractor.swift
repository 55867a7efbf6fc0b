/// Turns the bytes of one kind of document into plain text.
///
/// Implementations are synchronous and self-contained: they take a file, return `Sendable`
/// values, and keep whatever C pointers they use to themselves. They are called off the
/// cooperative thread pool.
package protocol TextExtractor: Sendable {
    /// Extracts the text of the file at `path`. Throws `ExtractionFailure` when the file cannot
    /// be read as this kind of document.
    func extract(fileAt path: String, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText
}

/// The text of one document.
package struct ExtractedText: Sendable, Equatable, Codable {
    /// The text of each page (PDF) or chunk (HTML and text), in order.
    package var pages: [String]
    /// Whether `pages` are real pages whose numbers mean something to a reader.
    package var hasPageNumbers: Bool
    package var title: String?
    package var author: String?
    package var description: String?
    /// The document's own page count (PDF), which can exceed `pages.count` when truncated.
    package var pageCount: Int
    /// Whether the text was cut at `ExtractionLimits.maximumTextBytes`.
    package var truncated: Bool

    package init(
        pages: [String], hasPageNumbers: Bool, title: String? = nil, author: String? = nil,
        description: String? = nil, pageCount: Int? = nil, truncated: Bool = false
    ) {
        self.pages = pages
        self.hasPageNumbers = hasPageNumbers
        self.title = title
        self.author = author
        self.description = description
        self.pageCount = pageCount ?? pages.count
        self.truncated = truncated
    }

    /// Whether no page has anything but white space.
    package var isEmpty: Bool {
        !pages.contains(where: \.hasVisibleText)
    }

    /// The size of the text in UTF-8 bytes.
    package var textBytes: Int {
        pages.reduce(0) { $0 + $1.utf8.count }
    }
}

/// Why a document yielded no text.
package enum ExtractionFailure: Error, Equatable, Sendable, Codable {
    /// The document needs a password.
    case encrypted
    /// The document is broken beyond what the parser recovers from.
    case damaged(String)
    /// The file is larger than the extractor accepts.
    case tooLarge(Int64)
    /// Extraction took longer than its time limit and was stopped.
    case timedOut
    /// The extraction process died (a crash in the parser, or its memory limit).
    case crashed(String)
}

/// Bounds on what extracting one document may cost.
package struct ExtractionLimits: Sendable, Equatable, Codable {
    /// Text beyond this many UTF-8 bytes is dropped, and the cut is recorded. (Bytes rather
    /// than characters: counting them costs nothing.)
    package var maximumTextBytes: Int
    /// HTML and text files larger than this are not parsed.
    package var maximumMarkupBytes: Int64
    /// PDFs larger than this are not opened.
    package var maximumPDFBytes: Int64
    /// Wall-clock time one document may take in its worker process.
    package var timeout: Double
    /// Address space of a worker process.
    package var addressSpace: Int64

    package static let standard = ExtractionLimits(
        maximumTextBytes: 4_000_000, maximumMarkupBytes: 64 << 20, maximumPDFBytes: 1 << 30,
        timeout: 60, addressSpace: 2 << 30)

    package init(
        maximumTextBytes: Int, maximumMarkupBytes: Int64, maximumPDFBytes: Int64, timeout: Double,
        addressSpace: Int64
    ) {
        self.maximumTextBytes = maximumTextBytes
        self.maximumMarkupBytes = maximumMarkupBytes
        self.maximumPDFBytes = maximumPDFBytes
        self.timeout = timeout
        self.addressSpace = addressSpace
    }
}

/// Collects page texts up to a budget of UTF-8 bytes.
struct TextBudget {
    private(set) var pages: [String] = []
    private(set) var truncated = false
    private var remaining: Int

    init(limit: Int) { remaining = limit }

    var isExhausted: Bool { remaining <= 0 }

    /// Adds a page; cuts it, at a character boundary, when the budget runs out.
    mutating func append(_ text: String) {
        guard remaining > 0 else {
            if !text.isEmpty { truncated = true }
            return
        }
        let size = text.utf8.count
        if size > remaining {
            pages.append(String(text.utf8Prefix(remaining)))
            remaining = 0
            truncated = true
        } else {
            pages.append(text)
            remaining -= size
        }
    }
}

extension StringProtocol {
    /// Whether the text has anything but ASCII white space (any non-ASCII counts as text).
    var hasVisibleText: Bool {
        utf8.contains { !($0 == 0x20 || (0x09...0x0D).contains($0)) }
    }
}

extension String {
    /// The longest prefix of at most `limit` UTF-8 bytes that does not split a character's
    /// encoding.
    func utf8Prefix(_ limit: Int) -> Substring {
        let bytes = utf8
        guard var end = bytes.index(bytes.startIndex, offsetBy: limit, limitedBy: bytes.endIndex),
            end != bytes.endIndex
        else { return self[...] }
        while end > bytes.startIndex, bytes[end] & 0xC0 == 0x80 {
            end = bytes.index(before: end)
        }
        return self[..<end]
    }
}
