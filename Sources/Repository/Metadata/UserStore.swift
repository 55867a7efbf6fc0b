/// Users and their credentials.
package protocol UserStore: Sendable {
    /// Registers a user with a new opaque id and a password stored through a slow KDF.
    /// Throws `.invalid` for a bad login name or password and `.conflict` when the login name
    /// is taken (compared without case).
    func createUser(_ new: NewUser, password: String?) async throws -> User

    /// The user with this opaque id, or `nil`.
    func user(id: String) async throws -> User?

    /// The user with this login name (compared without case), or `nil`.
    func user(loginName: String) async throws -> User?

    /// The user when the password is theirs, else `nil`. Takes as long for an unknown login
    /// name as for a wrong password, so timing does not tell which names exist.
    func authenticate(loginName: String, password: String) async throws -> User?

    /// Changes a user's fields and properties. Throws `.notFound` for an unknown user.
    func updateUser(id: String, _ change: UserChange) async throws -> User

    /// Whether `id` names a user, a group, or nothing.
    func principalKind(of id: String) async throws -> PrincipalKind?

    /// Replaces a user's password. Throws `.notFound` for an unknown user.
    func setPassword(userID: String, password: String) async throws

    /// Removes the accounts and their homes (`/~<id>` and everything under it), with their
    /// sessions, credentials, memberships and grants, all in one transaction. Items they
    /// created stay, with their other managers. Throws `.notFound`, removing nothing, when
    /// one of them is not a user.
    func deleteUsers(ids: [String]) async throws
}

package enum PrincipalKind: String, Sendable {
    case user, group
}
