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
    /// Whether the text was cut at `ExtractionLimits.maximumCharacters`.
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

    /// Whether any page has a character that is not white space.
    package var isEmpty: Bool {
        !pages.contains { $0.contains { !$0.isWhitespace } }
    }

    package var characterCount: Int {
        pages.reduce(0) { $0 + $1.count }
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
    /// Text beyond this many characters is dropped, and the cut is recorded.
    package var maximumCharacters: Int
    /// HTML and text files larger than this are not parsed.
    package var maximumMarkupBytes: Int64
    /// PDFs larger than this are not opened.
    package var maximumPDFBytes: Int64
    /// Wall-clock time one PDF may take in its worker process.
    package var pdfTimeout: Double
    /// Address space of a PDF worker process.
    package var pdfAddressSpace: Int64

    package static let standard = ExtractionLimits(
        maximumCharacters: 4_000_000, maximumMarkupBytes: 64 << 20, maximumPDFBytes: 1 << 30,
        pdfTimeout: 60, pdfAddressSpace: 2 << 30)

    package init(
        maximumCharacters: Int, maximumMarkupBytes: Int64, maximumPDFBytes: Int64, pdfTimeout: Double,
        pdfAddressSpace: Int64
    ) {
        self.maximumCharacters = maximumCharacters
        self.maximumMarkupBytes = maximumMarkupBytes
        self.maximumPDFBytes = maximumPDFBytes
        self.pdfTimeout = pdfTimeout
        self.pdfAddressSpace = pdfAddressSpace
    }
}

/// Collects page texts up to a character budget.
struct TextBudget {
    private(set) var pages: [String] = []
    private(set) var truncated = false
    private var remaining: Int

    init(limit: Int) { remaining = limit }

    var isExhausted: Bool { remaining <= 0 }

    /// Adds a page; cuts it when the budget runs out.
    mutating func append(_ text: String) {
        guard remaining > 0 else {
            if !text.isEmpty { truncated = true }
            return
        }
        if text.count > remaining {
            pages.append(String(text.prefix(remaining)))
            remaining = 0
            truncated = true
        } else {
            pages.append(text)
            remaining -= text.count
        }
    }
}
