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
        ("many-attributes.html", .indexed),
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

    /// 200,000 attributes on one element kept libxml2 busy for minutes (quadratic in the
    /// count); past 64 on an element they are dropped before parsing, and the text stays.
    @Test func anAttributeFloodCostsOnlyItsBytes() {
        let result = extractor.extract(fileAt: CorpusFiles.hostile("many-attributes.html"))
        #expect(result.outcome == .indexed)
        #expect(result.text?.pages.joined() == "attribute flood survivor")
    }

    @Test func attributesPastTheLimitAreDroppedAndNothingElse() {
        let page = #"<p class="a" id='b' data-x=c hidden>one <b x="1" y="2" z="3">two</b> <!-- <i a=1 b=2 c=3> --></p>"#
            + #"<script>if (a < b) { s = "<q a=1 b=2 c=3>" }</script><em a="1>2" b c=3 d>three</em>"#
        let limited = String(decoding: AttributeLimit.apply(Data(page.utf8), maximum: 2), as: UTF8.self)
        #expect(limited == #"<p class="a" id='b' >one <b x="1" y="2" >two</b> <!-- <i a=1 b=2 c=3> --></p>"#
            + #"<script>if (a < b) { s = "<q a=1 b=2 c=3>" }</script><em a="1>2" b >three</em>"#)
        let untouched = Data("<p a=1>short</p>".utf8)
        #expect(AttributeLimit.apply(untouched, maximum: 2) == untouched)
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
