import Foundation
import GRDB
import GRDBSQLite

/// `oaken_pairs`: an FTS5 tokenizer that turns text into the pairs of adjacent common words it
/// holds ("common grams"), for `bodyPairs` (see `PairIndex`).
///
/// Declared as `oaken_pairs '<word> <word> …' <base tokenizer and its arguments>`: the text is
/// tokenized by the base tokenizer (the body's own, so the words are the same stems), and for
/// each token that follows another one and both are in the word list, the token
/// `"<first> <second>"` is emitted, spanning both. Nothing else is emitted. Queries are
/// tokenized the same way, so the phrase `"of the"` becomes the single token `of the`.
final class PairTokenizer: FTS5CustomTokenizer {
    static let name = "oaken_pairs"

    private let base: any FTS5Tokenizer
    private let words: WordTable

    init(db: Database, arguments: [String]) throws {
        guard arguments.count >= 2 else {
            throw DatabaseError(message: "\(Self.name) needs a list of words and a base tokenizer")
        }
        words = WordTable(arguments[0].split(separator: " ").map { Array($0.utf8) })
        base = try db.makeTokenizer(FTS5TokenizerDescriptor(components: Array(arguments.dropFirst())))
    }

    func tokenize(
        context: UnsafeMutableRawPointer?, tokenization: FTS5Tokenization, pText: UnsafePointer<CChar>?, nText: CInt,
        tokenCallback: @escaping FTS5TokenCallback
    ) -> CInt {
        withExtendedLifetime(words) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: words.longest * 2 + 1) { pair in
                var state = PairState(words: words.lookup, pair: pair.baseAddress!, context: context, emit: tokenCallback)
                return withUnsafeMutablePointer(to: &state) { pointer in
                    base.tokenize(context: pointer, tokenization: tokenization, pText: pText, nText: nText) { state, flags, token, length, start, end in
                        state!.assumingMemoryBound(to: PairState.self).pointee.accept(flags, token, length, start, end)
                    }
                }
            }
        }
    }
}

/// One tokenization's state: the previous token's word, and room for a pair. (Raw pointers
/// only: this runs for every token of every page indexed.)
private struct PairState {
    let words: WordTable.Lookup
    let pair: UnsafeMutablePointer<UInt8>
    let context: UnsafeMutableRawPointer?
    let emit: FTS5TokenCallback
    /// The previous token's index in `words`, or -1.
    var previous = -1
    var previousStart: CInt = 0

    init(words: WordTable.Lookup, pair: UnsafeMutablePointer<UInt8>, context: UnsafeMutableRawPointer?, emit: @escaping FTS5TokenCallback) {
        self.words = words
        self.pair = pair
        self.context = context
        self.emit = emit
    }

    mutating func accept(_ flags: CInt, _ token: UnsafePointer<CChar>?, _ length: CInt, _ start: CInt, _ end: CInt) -> CInt {
        // A colocated token is another form of the previous one, not a word of its own.
        if flags & FTS5_TOKEN_COLOCATED != 0 { return SQLITE_OK }
        let word = token.map { words.index(of: UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? -1
        let first = previous
        let firstStart = previousStart
        previous = word
        previousStart = start
        guard first >= 0, word >= 0 else { return SQLITE_OK }
        let one = words.word(first)
        let two = words.word(word)
        pair.update(from: one.baseAddress!, count: one.count)
        pair[one.count] = UInt8(ascii: " ")
        (pair + one.count + 1).update(from: two.baseAddress!, count: two.count)
        return pair.withMemoryRebound(to: CChar.self, capacity: one.count + two.count + 1) { chars in
            emit(context, 0, chars, CInt(one.count + two.count + 1), firstStart, end)
        }
    }
}

/// A fixed set of words, looked up by their bytes without making strings or touching
/// reference counts: an open-addressing table of FNV-1a hashes over one block of bytes.
final class WordTable: @unchecked Sendable {
    /// The table's memory, read through raw pointers. Valid while the table lives.
    struct Lookup {
        let bytes: UnsafePointer<UInt8>
        /// Word n is `bytes[offsets[n] ..< offsets[n + 1]]`.
        let offsets: UnsafePointer<Int>
        /// Index into the words + 1, or 0 for an empty slot.
        let slots: UnsafePointer<Int32>
        let mask: Int

        func word(_ index: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: bytes + offsets[index], count: offsets[index + 1] - offsets[index])
        }

        /// The index of `bytes` among the words, or -1.
        func index(of token: UnsafeRawBufferPointer) -> Int {
            var slot = WordTable.hash(token) & mask
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return -1 }
                let word = word(entry - 1)
                if word.count == token.count && (word.count == 0 || memcmp(word.baseAddress!, token.baseAddress!, word.count) == 0) {
                    return entry - 1
                }
                slot = (slot + 1) & mask
            }
        }
    }

    let count: Int
    /// The longest word's length in bytes.
    let longest: Int
    let lookup: Lookup
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private let offsets: UnsafeMutableBufferPointer<Int>
    private let slots: UnsafeMutableBufferPointer<Int32>

    init(_ words: [[UInt8]]) {
        var unique: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for word in words where !word.isEmpty && seen.insert(word).inserted { unique.append(word) }
        count = unique.count
        longest = unique.map(\.count).max() ?? 0
        bytes = .allocate(capacity: max(1, unique.reduce(0) { $0 + $1.count }))
        offsets = .allocate(capacity: unique.count + 1)
        var size = 16
        while size < unique.count * 4 { size *= 2 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0)
        var end = 0
        offsets[0] = 0
        for (index, word) in unique.enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: bytes[end..<(end + word.count)]).initialize(from: word)
            end += word.count
            offsets[index + 1] = end
            var slot = word.withUnsafeBytes { Self.hash($0) } & (size - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index + 1)
        }
        lookup = Lookup(
            bytes: UnsafePointer(bytes.baseAddress!), offsets: UnsafePointer(offsets.baseAddress!),
            slots: UnsafePointer(slots.baseAddress!), mask: size - 1)
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
        slots.deallocate()
    }

    fileprivate static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash)
    }
}
