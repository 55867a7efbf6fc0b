import Testing

@testable import Indexer

@Suite struct MediaTypeSnifferTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test(arguments: [
        ("%PDF-1.7\n%âãÏÓ\n1 0 obj", "application/pdf"),
        ("\n\r\n  %PDF-1.4 after junk", "application/pdf"),
        ("<!DOCTYPE html><html><body>hi</body></html>", "text/html"),
        ("\u{FEFF}  \n<HTML lang=en>", "text/html"),
        ("<p>a fragment</p>", "text/html"),
        ("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>", "image/svg+xml"),
        ("<?xml version=\"1.0\"?><feed/>", "application/xml"),
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x\">\n<html>", "application/xhtml+xml"),
        ("<?xml version=\"1.0\"?>\n<!-- generated -->\n<html xmlns=\"http://www.w3.org/1999/xhtml\">", "application/xhtml+xml"),
        ("Plain notes about <html> tags, in prose.", "text/plain"),
        ("# Heading\n\nMarkdown *is* text.", "text/plain"),
        ("Latin-1 caf\u{E9} is text too", "text/plain"),
    ])
    func textualFormatsAreRecognisedByTheirBytes(text: String, expected: String) {
        #expect(MediaTypeSniffer.mediaType(of: Self.bytes(text)) == expected)
    }

    @Test func binarySignaturesWin() {
        #expect(MediaTypeSniffer.mediaType(of: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]) == "image/png")
        #expect(MediaTypeSniffer.mediaType(of: [0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(MediaTypeSniffer.mediaType(of: [0x50, 0x4B, 0x03, 0x04, 0x14]) == "application/zip")
        #expect(MediaTypeSniffer.mediaType(of: [0, 0, 0, 0x18] + Self.bytes("ftypmp42")) == "video/mp4")
    }

    @Test func utf16HtmlWithAByteOrderMarkIsHtml() {
        let littleEndian: [UInt8] = [0xFF, 0xFE] + Self.bytes("<html>").flatMap { [$0, 0] }
        let bigEndian: [UInt8] = [0xFE, 0xFF] + Self.bytes("<html>").flatMap { [0, $0] }
        #expect(MediaTypeSniffer.mediaType(of: littleEndian) == "text/html")
        #expect(MediaTypeSniffer.mediaType(of: bigEndian) == "text/html")
    }

    @Test func bytesWithControlCharactersAreNotText() {
        #expect(MediaTypeSniffer.mediaType(of: [0x00, 0x01, 0x02, 0x03]) == "application/octet-stream")
        #expect(MediaTypeSniffer.mediaType(of: Self.bytes("<html>") + [0x00]) == "application/octet-stream")
        #expect(MediaTypeSniffer.mediaType(of: []) == "application/octet-stream")
    }
}
