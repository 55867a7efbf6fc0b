import Foundation
import GRDB
import Repository

/// `oaken_doc_text(properties)`: the readable text of a Sakai doc's pages, from an item's
/// stored properties (JSON), for the item's row in `itemText`.
///
/// A doc's pages are object-valued properties of the item (`{"id7731": {"rows": …,
/// "id1234": {"htmlblock": {"content": "<p>…</p>"}}}}`): the text people wrote is in the
/// widgets' `content` strings, as HTML. Each is reduced to its text as an uploaded HTML page
/// is, and the texts are joined. An editor's unsaved draft (`autosave`) is left out. Other items have no object-valued properties, so they get
/// an empty text at the cost of reading the JSON.
enum DocumentTextFunction {
    static let name = "oaken_doc_text"

    /// At most this much text per item (like an uploaded document's).
    static let maximumBytes = ExtractionLimits.standard.maximumTextBytes
    /// Nesting followed inside a page.
    static let maximumDepth = 16

    static let function = DatabaseFunction(name, argumentCount: 1, pure: true) { values in
        guard let properties = String.fromDatabaseValue(values[0]), properties.contains("{\"") else { return "" }
        return text(ofProperties: properties)
    }

    static func text(ofProperties properties: String) -> String {
        guard case .object(let object)? = try? JSONValue.parse(properties) else { return "" }
        var html: [String] = []
        func collect(_ value: JSONValue, key: String?, depth: Int) {
            guard depth <= maximumDepth else { return }
            switch value {
            case .object(let members):
                // `autosave` holds an editor's unsaved draft of the page: not what readers see.
                for (name, member) in members.sorted(by: { $0.key < $1.key }) where name != "autosave" {
                    collect(member, key: name, depth: depth + 1)
                }
            case .array(let elements):
                for element in elements { collect(element, key: key, depth: depth + 1) }
            case .string(let string) where (key == "content" || key == "page") && depth > 1:
                html.append(string)
            default:
                break
            }
        }
        for (_, value) in object.sorted(by: { $0.key < $1.key }) {
            if case .object = value { collect(value, key: nil, depth: 1) }
        }
        var text = ""
        for page in html {
            let limits = ExtractionLimits(
                maximumTextBytes: max(0, maximumBytes - text.utf8.count), maximumMarkupBytes: Int64(maximumBytes) * 4,
                maximumPDFBytes: 0, timeout: 0, addressSpace: 0)
            guard limits.maximumTextBytes > 0, let extracted = try? HTMLTextExtractor.extract(Data(page.utf8), limits: limits) else { break }
            for chunk in extracted.pages {
                if !text.isEmpty { text += "\n" }
                text += chunk
            }
        }
        return text
    }
}
