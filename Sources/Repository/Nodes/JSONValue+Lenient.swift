extension JSONValue {
    /// Parses JSON as org.json reads it, which is how Nakamura read JSON carried in form
    /// fields: besides strict JSON, single-quoted strings and keys, keys without quotes, and
    /// a trailing comma before `}` or `]`. Strict JSON is parsed as it is. Throws
    /// `RepositoryError.invalid` naming `field` when even the lenient reading fails.
    package static func parseLeniently(_ text: String, field: String = "json") throws -> JSONValue {
        if let strict = try? parse(text, field: field) { return strict }
        return try parse(strictened(text), field: field)
    }

    /// `text` rewritten as strict JSON: single-quoted strings become double-quoted (with
    /// their escapes adjusted), bare keys are quoted, and trailing commas dropped.
    private static func strictened(_ text: String) -> String {
        let characters = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        /// Where the last comma outside strings went in `out`, while only blanks followed it.
        var pendingComma: String.UnicodeScalarView.Index?
        func isBareKeyCharacter(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "$" || c == "-"
        }
        while index < characters.count {
            let c = characters[index]
            if c == "\"" || c == "'" {
                pendingComma = nil
                let quote = c
                out.append("\"")
                index += 1
                while index < characters.count, characters[index] != quote {
                    let d = characters[index]
                    if d == "\\", index + 1 < characters.count {
                        let next = characters[index + 1]
                        if next == "'" {
                            out.append("'")
                        } else {
                            out.append(d)
                            out.append(next)
                        }
                        index += 2
                        continue
                    }
                    if d == "\"" { out.append("\\") }
                    out.append(d)
                    index += 1
                }
                out.append("\"")
                index += 1
                continue
            }
            if c == "}" || c == "]", let comma = pendingComma {
                out.remove(at: comma)
                pendingComma = nil
            }
            if c == "," {
                pendingComma = out.endIndex
                out.append(c)
                index += 1
                continue
            }
            if c.properties.isWhitespace {
                out.append(c)
                index += 1
                continue
            }
            pendingComma = nil
            // A bare key: letters, digits and `_$-` up to a colon, right after `{` or `,`.
            if isBareKeyCharacter(c), !("0"..."9").contains(c), c != "-" {
                var end = index
                while end < characters.count, isBareKeyCharacter(characters[end]) { end += 1 }
                var look = end
                while look < characters.count, characters[look].properties.isWhitespace { look += 1 }
                let previous = out.last { !$0.properties.isWhitespace }
                if look < characters.count, characters[look] == ":", previous == "{" || previous == "," {
                    out.append("\"")
                    out.append(contentsOf: characters[index..<end])
                    out.append("\"")
                    index = end
                    continue
                }
                out.append(contentsOf: characters[index..<end])
                index = end
                continue
            }
            out.append(c)
            index += 1
        }
        return String(out)
    }
}
