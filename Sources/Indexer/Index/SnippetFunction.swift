import Foundation
import GRDB
import GRDBSQLite

/// `oaken_snippet(table, open, close, ellipsis, tokens)`: the row's best passage of `tokens`
/// tokens, with its matches between `open` and `close`, as FTS5's `snippet(table, -1, …)`
/// gives it, at a fraction of the cost.
///
/// `snippet()` tokenizes a column's whole text (and runs a sentence finder over it) for every
/// row; on a page of 25 results that is most of a small query's time. The passage can be
/// chosen from the match positions FTS5 already has, so this function tokenizes only as far
/// as the passage's last token. The choice follows `snippet()`: the window that holds the
/// most distinct phrases of the query, then the most matches, the first such window winning,
/// moved back to centre its matches; it does not prefer windows that begin a sentence.
enum SnippetFunction {
    static let name = "oaken_snippet"
}

/// One match: a phrase's tokens in a column.
private struct Match {
    var phrase: Int32
    var column: Int32
    var start: Int32
    var end: Int32
}

/// The tokenizer callback's state: the window's tokens' byte ranges.
private struct Window {
    var first: Int32
    var last: Int32
    var position: Int32 = -1
    var ranges: [(start: Int32, end: Int32)] = []
}

let snippetFunction: fts5_extension_function = { api, fts, result, count, values in
    guard let api = api?.pointee, count >= 4, let values else { return }
    func fail(_ code: Int32) { sqlite3_result_error_code(result, code) }
    func text(_ value: OpaquePointer?) -> String {
        sqlite3_value_text(value).map { String(cString: $0) } ?? ""
    }
    let open = text(values[0])
    let close = text(values[1])
    let ellipsis = text(values[2])
    let length = max(1, min(64, sqlite3_value_int(values[3])))

    var matches: [Match] = []
    var code = forEachInstance(api, fts) { phrase, column, offset in
        matches.append(Match(phrase: phrase, column: column, start: offset, end: offset + max(1, api.xPhraseSize(fts, phrase)) - 1))
    }
    guard code == SQLITE_OK else { return fail(code) }
    matches.sort { ($0.column, $0.start) < ($1.column, $1.start) }

    // The best window: most distinct phrases (1000 each), then most matches.
    var bestColumn: Int32 = -1
    var bestStart: Int32 = 0
    var bestScore = -1
    var seen: [Int32] = []
    for (index, candidate) in matches.enumerated() {
        seen.removeAll(keepingCapacity: true)
        var score = 0
        var lastEnd = candidate.end
        // The matches in the window starting here (they are sorted, so the loop stops at the
        // window's end: a page with thousands of matches costs thousands of steps, not millions).
        for other in matches[index...] {
            if other.column != candidate.column || other.start >= candidate.start + length { break }
            guard other.end < candidate.start + length else { continue }
            if seen.contains(other.phrase) {
                score += 1
            } else {
                seen.append(other.phrase)
                score += 1000
            }
            lastEnd = max(lastEnd, other.end)
        }
        if score > bestScore {
            bestScore = score
            bestColumn = candidate.column
            // Centre the matches in the window.
            bestStart = candidate.start - (length - (lastEnd - candidate.start + 1)) / 2
        }
    }
    var size: Int32 = 0
    if bestColumn < 0 {
        // No match to show (a row found through a NOT): the start of the first column with text.
        bestStart = 0
        for column in 0..<api.xColumnCount(fts) {
            code = api.xColumnSize(fts, column, &size)
            guard code == SQLITE_OK else { return fail(code) }
            if size > 0 {
                bestColumn = column
                break
            }
        }
        guard bestColumn >= 0 else { return sqlite3_result_text(result, "", 0, nil) }
    } else {
        code = api.xColumnSize(fts, bestColumn, &size)
        guard code == SQLITE_OK else { return fail(code) }
    }
    bestStart = max(0, min(bestStart, size - length))
    let bestEnd = min(size, bestStart + length) - 1

    var bytes: UnsafePointer<CChar>?
    var byteCount: Int32 = 0
    code = api.xColumnText(fts, bestColumn, &bytes, &byteCount)
    guard code == SQLITE_OK, let bytes else { return code == SQLITE_OK ? sqlite3_result_text(result, "", 0, nil) : fail(code) }

    var window = Window(first: bestStart, last: bestEnd)
    code = withUnsafeMutablePointer(to: &window) { pointer in
        api.xTokenize(fts, bytes, byteCount, pointer) { context, flags, _, _, start, end in
            let window = context!.assumingMemoryBound(to: Window.self)
            if flags & FTS5_TOKEN_COLOCATED != 0 { return SQLITE_OK }
            window.pointee.position += 1
            let position = window.pointee.position
            if position >= window.pointee.first { window.pointee.ranges.append((start, end)) }
            return position >= window.pointee.last ? SQLITE_DONE : SQLITE_OK
        }
    }
    guard code == SQLITE_OK || code == SQLITE_DONE else { return fail(code) }
    guard !window.ranges.isEmpty else { return sqlite3_result_text(result, "", 0, nil) }

    // The matches in the window, as token spans (overlapping ones merged, as `snippet()`
    // does; neighbouring ones stay apart).
    let windowLast = bestStart + Int32(window.ranges.count) - 1
    var spans: [(first: Int, last: Int)] = []
    for match in matches where match.column == bestColumn {
        let first = max(match.start, bestStart)
        let last = min(match.end, windowLast)
        guard first <= last else { continue }
        let span = (first: Int(first - bestStart), last: Int(last - bestStart))
        if let previous = spans.last, span.first <= previous.last {
            spans[spans.count - 1].last = max(previous.last, span.last)
        } else {
            spans.append(span)
        }
    }
    let text = UnsafeRawBufferPointer(start: bytes, count: Int(byteCount))
    var out: [UInt8] = []
    out.reserveCapacity(Int(window.ranges.last!.end - window.ranges[0].start) + 64)
    var offset = Int(window.ranges[0].start)
    if bestStart > 0 { out += ellipsis.utf8 } else { offset = 0 }
    for span in spans {
        let start = Int(window.ranges[span.first].start)
        let end = Int(window.ranges[span.last].end)
        out += text[offset..<start]
        out += open.utf8
        out += text[start..<end]
        out += close.utf8
        offset = end
    }
    if windowLast >= size - 1 {
        out += text[offset...]
    } else {
        out += text[offset..<Int(window.ranges.last!.end)]
        out += ellipsis.utf8
    }
    guard !out.isEmpty else { return sqlite3_result_text(result, "", 0, nil) }
    out.withUnsafeBufferPointer { buffer in
        sqlite3_result_text64(
            result, UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), UInt64(buffer.count),
            unsafeBitCast(-1, to: sqlite3_destructor_type.self), UInt8(SQLITE_UTF8))
    }
}
