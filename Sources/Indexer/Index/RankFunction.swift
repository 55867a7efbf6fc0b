import Foundation
import GRDB
import GRDBSQLite

/// `oaken_bm25(table, matchingRows, weight...)`: an FTS5 ranking function that scores rows
/// exactly as FTS5's own `bm25(table, weight...)` does, but can be told how many rows match
/// the query.
///
/// BM25 needs each phrase's document frequency, and `bm25()` finds it by running every phrase
/// of the query over the whole table again, even when only a few rows are to be scored. For a
/// phrase of two common words at 100,000 documents that second pass costs as much as the
/// search itself (about 50 ms here). A search already knows how many rows match, so when the
/// query is a single phrase (a word, a prefix or a quoted phrase: nearly every query) that
/// count is passed in and the pass is skipped. Queries of several phrases count each phrase
/// as `bm25()` does. `matchingRows` may be NULL.
enum RankFunction {
    static let name = "oaken_bm25"

    /// Adds this function and `SnippetFunction` to a connection (see
    /// `SQLiteSearchIndex.prepareDatabase`).
    static func register(in db: Database) throws {
        let api = UnsafeMutablePointer(mutating: FTS5.api(db))
        guard let create = api.pointee.xCreateFunction else { throw DatabaseError(message: "FTS5 cannot add functions") }
        for (name, function) in [(name, bm25), (SnippetFunction.name, snippetFunction)] {
            let code = create(api, name, nil, function, nil)
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot add the FTS5 function \(name)")
            }
        }
    }
}

/// What every row of one query shares, computed on its first row.
private final class RankContext {
    /// Each phrase's inverse document frequency.
    let idf: [Double]
    /// Each column's weight.
    let weights: [Double]
    /// The average row length in tokens.
    let averageLength: Double
    /// Each phrase's weighted frequency in the current row (scratch space).
    var frequencies: [Double]

    init(idf: [Double], weights: [Double], averageLength: Double) {
        self.idf = idf
        self.weights = weights
        self.averageLength = averageLength
        frequencies = Array(repeating: 0, count: idf.count)
    }
}

private let k1 = 1.2
private let b = 0.75

private let bm25: fts5_extension_function = { api, fts, result, count, values in
    guard let api = api?.pointee else { return }
    func fail(_ code: Int32) { sqlite3_result_error_code(result, code) }
    let context: RankContext
    if let saved = api.xGetAuxdata(fts, 0) {
        context = Unmanaged<RankContext>.fromOpaque(saved).takeUnretainedValue()
    } else {
        var rows: Int64 = 0
        var tokens: Int64 = 0
        var code = api.xRowCount(fts, &rows)
        if code == SQLITE_OK { code = api.xColumnTotalSize(fts, -1, &tokens) }
        guard code == SQLITE_OK else { return fail(code) }
        let phrases = Int(api.xPhraseCount(fts))
        let known: Int64? = count > 0 && sqlite3_value_type(values![0]) == SQLITE_INTEGER ? sqlite3_value_int64(values![0]) : nil
        var idf: [Double] = []
        for phrase in 0..<phrases {
            var hits: Int64 = 0
            if phrases == 1, let known {
                hits = known
            } else {
                let code = api.xQueryPhrase(fts, Int32(phrase), &hits) { _, _, counter in
                    counter!.assumingMemoryBound(to: Int64.self).pointee += 1
                    return SQLITE_OK
                }
                guard code == SQLITE_OK else { return fail(code) }
            }
            let value = log((Double(rows) - Double(hits) + 0.5) / (Double(hits) + 0.5))
            idf.append(value > 0 ? value : 1e-6)
        }
        let columns = Int(api.xColumnCount(fts))
        let weights = (0..<columns).map { column in
            column + 1 < Int(count) ? sqlite3_value_double(values![column + 1]) : 1.0
        }
        context = RankContext(idf: idf, weights: weights, averageLength: rows > 0 ? Double(tokens) / Double(rows) : 1)
        let code2 = api.xSetAuxdata(fts, Unmanaged.passRetained(context).toOpaque()) { saved in
            Unmanaged<RankContext>.fromOpaque(saved!).release()
        }
        guard code2 == SQLITE_OK else { return fail(code2) }
    }

    for index in context.frequencies.indices { context.frequencies[index] = 0 }
    var code = forEachInstance(api, fts) { phrase, column, _ in
        context.frequencies[Int(phrase)] += context.weights[Int(column)]
    }
    guard code == SQLITE_OK else { return fail(code) }
    var length: Int32 = 0
    code = api.xColumnSize(fts, -1, &length)
    guard code == SQLITE_OK else { return fail(code) }
    let norm = k1 * (1 - b + b * Double(length) / context.averageLength)
    var score = 0.0
    for (phrase, frequency) in context.frequencies.enumerated() {
        score += context.idf[phrase] * frequency * (k1 + 1) / (frequency + norm)
    }
    sqlite3_result_double(result, -score)
}

/// Calls `body` with each match of the current row (phrase, column, token offset); returns
/// FTS5's error code, or `SQLITE_OK`.
func forEachInstance(_ api: Fts5ExtensionApi, _ fts: OpaquePointer?, _ body: (Int32, Int32, Int32) -> Void) -> Int32 {
    var instances: Int32 = 0
    var code = api.xInstCount(fts, &instances)
    guard code == SQLITE_OK else { return code }
    for instance in 0..<instances {
        var phrase: Int32 = 0
        var column: Int32 = 0
        var offset: Int32 = 0
        code = api.xInst(fts, instance, &phrase, &column, &offset)
        guard code == SQLITE_OK else { return code }
        body(phrase, column, offset)
    }
    return SQLITE_OK
}
