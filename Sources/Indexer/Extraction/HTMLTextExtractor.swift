import CLibXML2
import Foundation

/// HTML through libxml2's forgiving HTML parser, in process: the title, the meta description,
/// and the body text without scripts, styles and other non-text elements.
///
/// The parser loads no DTD and no external entity and touches no network (`HTML_PARSE_NONET`),
/// so an entity bomb stays a few literal characters. The tree is walked without recursion, so
/// nesting depth costs nothing. The charset is taken from a byte-order mark, else a `<meta>`
/// declaration, else UTF-8 when the bytes are valid UTF-8, else Windows-1252.
package struct HTMLTextExtractor: TextExtractor {
    package init() {
        _ = Self.initialized
    }

    /// libxml2's global state is set up once per process; it is never torn down, because
    /// Foundation shares the library.
    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    package func extract(fileAt path: String, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText {
        let data = try FileBytes.read(path, limit: min(limits.maximumMarkupBytes, Int64(Int32.max)))
        return try Self.extract(data, limits: limits)
    }

    static func extract(_ data: Data, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText {
        let data = AttributeLimit.apply(data)
        let encoding = CharsetSniffer.encoding(of: data)
        let options = HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_NOERROR.rawValue
            | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_COMPACT.rawValue
            // Lifts the nesting limit of 256, which would silently drop deeper text. The input
            // is already capped in size, and the HTML parser expands no entities.
            | UInt32(XML_PARSE_HUGE.rawValue)
        oaken_xml_silence()
        let document: htmlDocPtr? = data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            let doc = htmlReadMemory(
                base.assumingMemoryBound(to: CChar.self), Int32(raw.count), "document.html", encoding,
                Int32(bitPattern: options))
            // A charset libxml2 does not know: read it as UTF-8 rather than not at all.
            return doc ?? htmlReadMemory(
                base.assumingMemoryBound(to: CChar.self), Int32(raw.count), "document.html", "UTF-8",
                Int32(bitPattern: options))
        }
        guard let document else {
            if data.isEmpty { return ExtractedText(pages: [], hasPageNumbers: false) }
            throw .damaged("not parseable as HTML")
        }
        defer { xmlFreeDoc(document) }
        var walker = HTMLTextWalker(limit: limits.maximumTextBytes)
        if let root = xmlDocGetRootElement(document) {
            walker.readHead(of: root)
            walker.walk(root)
        }
        var budget = TextBudget(limit: limits.maximumTextBytes)
        for chunk in PlainTextExtractor.chunks(of: walker.bodyText, size: PlainTextExtractor.chunkCharacters) {
            budget.append(chunk)
        }
        return ExtractedText(
            pages: budget.pages, hasPageNumbers: false, title: walker.title, description: walker.description,
            truncated: budget.truncated || walker.truncated)
    }
}

/// Collects text from a libxml2 tree without recursion.
private struct HTMLTextWalker {
    private(set) var title: String?
    private(set) var description: String?
    private(set) var truncated = false
    private var text = ""
    private let limit: Int

    /// Elements whose content is never text a reader sees.
    private static let skipped: Set<String> = [
        "script", "style", "noscript", "template", "svg", "math", "head", "iframe", "object", "embed", "canvas",
    ]
    /// Elements that end a line of text.
    private static let blocks: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table",
        "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "dd", "dt", "dl",
        "figure", "figcaption", "hr", "main", "form", "address", "body", "title",
    ]

    init(limit: Int) { self.limit = limit }

    var bodyText: String {
        text.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "\n")
    }

    /// Reads the title and meta description from the `<head>`, whose other content is skipped.
    mutating func readHead(of root: xmlNodePtr) {
        var child = root.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE, Self.name(of: node) == "head" {
                var element = node.pointee.children
                while let current = element {
                    if current.pointee.type == XML_ELEMENT_NODE {
                        switch Self.name(of: current) {
                        case "title" where title == nil: title = Self.collapse(Self.textContent(of: current))
                        case "meta": readMeta(current)
                        default: break
                        }
                    }
                    element = current.pointee.next
                }
            }
            child = node.pointee.next
        }
    }

    mutating func walk(_ root: xmlNodePtr) {
        var node: xmlNodePtr? = root
        while let current = node {
            var descend = false
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                let name = Self.name(of: current)
                if Self.blocks.contains(name) { text.append("\n") }
                descend = !Self.skipped.contains(name)
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content {
                    appendText(String(cString: content))
                }
            default:
                break
            }
            if descend, let child = current.pointee.children {
                node = child
                continue
            }
            // Up until there is a next sibling, closing blocks on the way.
            var cursor = current
            while cursor.pointee.next == nil {
                guard let parent = cursor.pointee.parent, cursor != root,
                    parent.pointee.type == XML_ELEMENT_NODE
                else { return }
                cursor = parent
                if Self.blocks.contains(Self.name(of: cursor)) { text.append("\n") }
                if cursor == root { return }
            }
            if cursor == root { return }
            node = cursor.pointee.next
        }
    }

    private mutating func appendText(_ raw: String) {
        guard text.utf8.count < limit else {
            truncated = true
            return
        }
        let collapsed = Self.collapse(raw, keepEdges: true)
        if !collapsed.isEmpty { text.append(collapsed) }
    }

    private mutating func readMeta(_ node: xmlNodePtr) {
        guard description == nil, Self.attribute("name", of: node)?.lowercased() == "description",
            let content = Self.attribute("content", of: node)
        else { return }
        description = Self.collapse(content)
    }

    private static func name(of node: xmlNodePtr) -> String {
        guard let name = node.pointee.name else { return "" }
        return String(cString: name).lowercased()
    }

    private static func attribute(_ name: String, of node: xmlNodePtr) -> String? {
        guard let value = xmlGetProp(node, name) else { return nil }
        defer { oaken_xmlFree(value) }
        return String(cString: value)
    }

    private static func textContent(of node: xmlNodePtr) -> String {
        guard let value = xmlNodeGetContent(node) else { return "" }
        defer { oaken_xmlFree(value) }
        return String(cString: value)
    }

    /// Folds runs of white space into one space; without `keepEdges`, trims the ends too.
    static func collapse(_ text: String, keepEdges: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for character in text {
            if character.isWhitespace {
                pendingSpace = true
            } else {
                if pendingSpace, keepEdges || !out.isEmpty { out.append(" ") }
                pendingSpace = false
                out.append(character)
            }
        }
        if pendingSpace, keepEdges { out.append(" ") }
        return out
    }
}
