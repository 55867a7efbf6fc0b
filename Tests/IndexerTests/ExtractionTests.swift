import Foundation
import Testing

@testable import Indexer

@Suite struct ExtractionTests {
    let limits = ExtractionLimits.standard

    @Test func aPDFGivesTheTextOfEachPageAndItsMetadata() throws {
        let text = try PDFTextExtractor().extract(fileAt: CorpusFiles.golden("three-pages.pdf"), limits: limits)
        #expect(text.pageCount == 3)
        #expect(text.hasPageNumbers)
        #expect(text.title == "Three Pages")
        #expect(text.author == "Ada Lovelace")
        #expect(text.pages.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } == [
            "The first page talks about photosynthesis.",
            "The second page is about the mitochondria.",
            "Zebrafish appear only on page three, with café crème.",
        ])
        #expect(!text.truncated)
    }

    @Test func aDeclaredLatin1CharsetIsHonoured() throws {
        let text = try HTMLTextExtractor().extract(fileAt: CorpusFiles.golden("latin1.html"), limits: limits)
        #expect(text.title == "Café menu")
        #expect(text.description == "Naïve desserts")
        #expect(text.pages.joined().contains("Crème brûlée and naïve résumés."))
    }

    /// An XML declaration before the XHTML doctype (DocBook's manuals, the PostgreSQL one among
    /// them) once made a page `unsupported`.
    @Test func xhtmlIsReadAsHTML() throws {
        let result = DocumentExtractor(pdf: PDFTextExtractor(), limits: limits).extract(fileAt: CorpusFiles.golden("xhtml.html"))
        #expect(result.outcome == .indexed && result.mediaType == "application/xhtml+xml")
        #expect(result.text?.title == "Chapter 9. Functions and Operators")
        let body = result.text?.pages.joined() ?? ""
        #expect(body.contains("Logical operators combine") && body.contains("naïve readers"))
        #expect(!body.contains("never indexed"))
    }

    @Test func aByteOrderMarkMakesUTF8WithoutADeclaration() throws {
        let text = try HTMLTextExtractor().extract(fileAt: CorpusFiles.golden("utf8-bom.html"), limits: limits)
        #expect(text.title == "Grüße")
        #expect(text.pages.joined().contains("Über die Straße."))
    }

    @Test func scriptsStylesAndTheHeadAreNotText() throws {
        let text = try HTMLTextExtractor().extract(fileAt: CorpusFiles.golden("latin1.html"), limits: limits)
        let body = text.pages.joined(separator: "\n")
        #expect(!body.contains("scripttext"))
        #expect(!body.contains("color:red"))
        #expect(body.hasPrefix("Café menu"), "the h1 comes first: \(body)")
    }

    @Test func plainTextIsUTF8OrElseLatin1() throws {
        let markdown = try PlainTextExtractor().extract(fileAt: CorpusFiles.golden("notes.md"), limits: limits)
        #expect(markdown.pages == ["# Lecture notes\n\nThe *Krebs cycle* runs in the matrix.\n"])
        let latin1 = try PlainTextExtractor().extract(fileAt: CorpusFiles.golden("latin1.txt"), limits: limits)
        #expect(latin1.pages == ["Señor Muñoz ate a crêpe.\n"])
    }

    @Test func textBeyondTheCharacterLimitIsCutAndTheCutRecorded() throws {
        var small = limits
        small.maximumTextBytes = 20
        let pdf = try PDFTextExtractor().extract(fileAt: CorpusFiles.golden("three-pages.pdf"), limits: small)
        #expect(pdf.truncated)
        #expect(pdf.textBytes <= 20)
        #expect(pdf.pageCount == 3)
        let html = try HTMLTextExtractor().extract(fileAt: CorpusFiles.golden("latin1.html"), limits: small)
        #expect(html.truncated)
        #expect(html.textBytes <= 20)
    }

    @Test func longTextIsChunkedAtParagraphs() {
        let paragraph = String(repeating: "word ", count: 300)
        let chunks = PlainTextExtractor.chunks(of: Array(repeating: paragraph, count: 10).joined(separator: "\n\n"), size: 4000)
        #expect(chunks.count > 1)
        #expect(chunks.allSatisfy { $0.utf8.count <= 4000 })
        #expect(chunks.joined() == Array(repeating: paragraph, count: 10).joined(separator: "\n\n"))
    }

    @Test func chunksNeverSplitACharacter() {
        let text = String(repeating: "é", count: 5000)
        let chunks = PlainTextExtractor.chunks(of: text, size: 999)
        #expect(chunks.joined() == text)
        #expect(chunks.allSatisfy { $0.utf8.count <= 999 && $0.allSatisfy { $0 == "é" } })
        #expect("añb".utf8Prefix(2) == "a")
    }

    @Test func extractionPicksTheExtractorByBytesNotByName() {
        let extractor = DocumentExtractor(pdf: PDFTextExtractor(), limits: limits)
        let pdfNamedHTML = extractor.extract(fileAt: CorpusFiles.hostile("pdf-named-html.html"))
        #expect(pdfNamedHTML.mediaType == "application/pdf")
        #expect(pdfNamedHTML.outcome == .indexed)
        let htmlNamedPDF = extractor.extract(fileAt: CorpusFiles.hostile("html-named-pdf.pdf"))
        #expect(htmlNamedPDF.mediaType == "text/html")
        #expect(htmlNamedPDF.text?.title == "Not a PDF")
    }
}
