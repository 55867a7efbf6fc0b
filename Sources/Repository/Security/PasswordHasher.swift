import Crypto
import CryptoExtras
import Foundation

/// Derives password hashes with scrypt, a slow and memory-hard KDF, so a stolen database is
/// expensive to attack. The parameters are stored with each hash, so they can be raised later
/// without invalidating existing passwords.
package struct PasswordHasher: Sendable {
    /// log2 of scrypt's CPU/memory cost N. 15 means N = 32768: 32 MiB and tens of milliseconds
    /// per hash.
    package var costExponent: Int
    package var blockSize = 8
    package var parallelism = 1
    /// Where derivations run, shared by every copy of this hasher.
    package let gate: DerivationGate

    package static let standard = PasswordHasher(costExponent: 15)

    package init(costExponent: Int, gate: DerivationGate = DerivationGate()) {
        self.costExponent = costExponent
        self.gate = gate
    }

    package struct Hash: Sendable, Equatable {
        package var algorithm: String
        package var parameters: String
        package var salt: [UInt8]
        package var hash: [UInt8]
    }

    package static let algorithm = "scrypt"
    static let minimumPasswordLength = 4
    static let maximumPasswordLength = 1024

    package func validate(_ password: String) throws {
        guard password.count >= Self.minimumPasswordLength else {
            throw RepositoryError.invalid(field: "password", reason: "must be at least \(Self.minimumPasswordLength) characters")
        }
        guard password.utf8.count <= Self.maximumPasswordLength else {
            throw RepositoryError.invalid(field: "password", reason: "must be at most \(Self.maximumPasswordLength) bytes")
        }
    }

    package func hash(_ password: String) throws -> Hash {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        let parameters = "n=\(costExponent),r=\(blockSize),p=\(parallelism)"
        return Hash(
            algorithm: Self.algorithm, parameters: parameters, salt: salt,
            hash: try Self.derive(password, salt: salt, parameters: parameters))
    }

    /// Whether `password` produces `stored`, compared in constant time.
    package func verify(_ password: String, against stored: Hash) throws -> Bool {
        guard stored.algorithm == Self.algorithm else { return false }
        let derived = try Self.derive(password, salt: stored.salt, parameters: stored.parameters)
        guard derived.count == stored.hash.count else { return false }
        return zip(derived, stored.hash).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Spends the same effort as a verification, for unknown login names.
    package func wasteVerification(_ password: String) {
        _ = try? Self.derive(password, salt: [UInt8](repeating: 0, count: 16), parameters: "n=\(costExponent),r=\(blockSize),p=\(parallelism)")
    }

    private static func derive(_ password: String, salt: [UInt8], parameters: String) throws -> [UInt8] {
        var values: [String: Int] = [:]
        for pair in parameters.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let v = Int(parts[1]) { values[String(parts[0])] = v }
        }
        guard let n = values["n"], let r = values["r"], let p = values["p"], (1...24).contains(n), r > 0, p > 0 else {
            throw RepositoryError.storage("unreadable password parameters '\(parameters)'")
        }
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32,
            rounds: 1 << n, blockSize: r, parallelism: p)
        return key.withUnsafeBytes { Array($0) }
    }
}

extension PasswordHasher {
    /// The key derivation is slow on purpose; it runs through the hasher's `DerivationGate`,
    /// on threads of its own, so that it never holds one of the few threads of Swift's
    /// cooperative pool and never runs more than a few at once.
    func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await gate.run(work)
    }
}
