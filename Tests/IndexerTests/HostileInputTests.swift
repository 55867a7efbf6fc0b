import Foundation
import Testing

@testable import Indexer

/// Each hostile input ends in its recorded outcome, in process (HTML and text) or through the
/// in-process PDF extractor; the worker-process path is exercised by the command tests.
@Suite struct HostileInputTests {
    let extractor = DocumentExtractor(pdf: PDFTextExtractor(), limits: .standard)

    @Test(arguments: [
        ("truncated.pdf", ExtractionOutcome.damaged),
        ("zero-bytes.pdf", .emptyText),
        ("encrypted.pdf", .encrypted),
        ("thousands-of-empty-pages.pdf", .emptyText),
        ("entity-bomb.html", .indexed),
        ("nested-100000.html", .indexed),
        ("invalid-utf8.txt", .indexed),
        ("pdf-named-html.html", .indexed),
        ("html-named-pdf.pdf", .indexed),
    ])
    func eachHostileInputHasItsOutcome(file: String, expected: ExtractionOutcome) {
        let result = extractor.extract(fileAt: CorpusFiles.hostile(file))
        #expect(result.outcome == expected, "\(file): \(result.detail ?? "")")
    }

    @Test func anEntityBombStaysSmall() {
        let result = extractor.extract(fileAt: CorpusFiles.hostile("entity-bomb.html"))
        let text = result.text?.pages.joined() ?? ""
        #expect(text.contains("entity bomb survivor"))
        #expect(text.count < 1000, "entities were expanded: \(text.count) characters")
    }

    @Test func deeplyNestedHTMLKeepsItsText() {
        let result = extractor.extract(fileAt: CorpusFiles.hostile("nested-100000.html"))
        #expect(result.text?.pages.joined().contains("deeply nested words") == true)
    }

    @Test func invalidUTF8IsReadAsLatin1() {
        let result = extractor.extract(fileAt: CorpusFiles.hostile("invalid-utf8.txt"))
        let text = result.text?.pages.joined() ?? ""
        #expect(text.hasPrefix("valid start "))
        #expect(text.contains("sequences end"))
    }

    @Test func thousandsOfEmptyPagesAreCountedAsPages() {
        let result = extractor.extract(fileAt: CorpusFiles.hostile("thousands-of-empty-pages.pdf"))
        #expect(result.text?.pageCount == 5000)
    }

    @Test func anOversizedMarkupFileIsRefusedUnread() {
        var limits = ExtractionLimits.standard
        limits.maximumMarkupBytes = 1000
        let result = DocumentExtractor(pdf: PDFTextExtractor(), limits: limits).extract(fileAt: CorpusFiles.hostile("nested-100000.html"))
        #expect(result.outcome == .tooLarge)
    }
}
