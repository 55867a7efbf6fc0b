import GRDB

/// The relational schema, as frozen, named migrations.
///
/// A shipped migration is never edited: a change of schema is a new migration. The schema holds
/// every aggregate the OAE API needs, so features add behaviour rather than tables.
/// Timestamps are epoch milliseconds; `properties` columns hold a JSON object of the
/// free-form properties the UI stores beside the modelled ones.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-createPrincipals", migrate: createPrincipals)
        migrator.registerMigration("v1-createContent", migrate: createContent)
        migrator.registerMigration("v1-createSocial", migrate: createSocial)
        migrator.registerMigration("v1-createNodeStore", migrate: createNodeStore)
        migrator.registerMigration("v1-createExtractionQueue", migrate: createExtractionQueue)
        migrator.registerMigration("v2-createImportedFile", migrate: createImportedFile)
        migrator.registerMigration("v3-indexPendingJobsOnly", migrate: indexPendingJobsOnly)
        migrator.registerMigration("v4-markManagerRoles", migrate: markManagerRoles)
        migrator.registerMigration("v5-createFormerGrantee", migrate: createFormerGrantee)
        migrator.registerMigration("v6-createContentResource", migrate: createContentResource)
        migrator.registerMigration("v7-createGroupManagersAndViewers", migrate: createGroupManagersAndViewers)
        return migrator
    }

    /// Users and groups share one id space (`/~<id>` names either), so both are principals.
    /// A group's role pseudo-groups (`<gid>-manager`, `<gid>-member`) are groups whose
    /// `parentId` names the group.
    private static func createPrincipals(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE principal (
                id TEXT PRIMARY KEY NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
                createdAt INTEGER NOT NULL,
                createdBy TEXT REFERENCES principal(id) ON DELETE SET NULL,
                lastModifiedAt INTEGER NOT NULL,
                properties TEXT NOT NULL DEFAULT '{}'
            );
            CREATE TABLE user (
                id TEXT PRIMARY KEY NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                loginName TEXT NOT NULL UNIQUE COLLATE NOCASE,
                firstName TEXT NOT NULL,
                lastName TEXT NOT NULL,
                email TEXT,
                locale TEXT,
                timezone TEXT
            );
            CREATE TABLE userGroup (
                id TEXT PRIMARY KEY NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                parentId TEXT REFERENCES userGroup(id) ON DELETE CASCADE,
                roleId TEXT,
                title TEXT NOT NULL DEFAULT '',
                description TEXT NOT NULL DEFAULT '',
                visibility TEXT NOT NULL DEFAULT 'public'
                    CHECK (visibility IN ('public', 'logged-in', 'members-only')),
                joinability TEXT NOT NULL DEFAULT 'yes' CHECK (joinability IN ('yes', 'withauth', 'no')),
                CHECK ((parentId IS NULL) = (roleId IS NULL))
            );
            CREATE INDEX userGroup_parent ON userGroup(parentId);
            CREATE TABLE credential (
                userId TEXT PRIMARY KEY NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                algorithm TEXT NOT NULL,
                parameters TEXT NOT NULL,
                salt BLOB NOT NULL,
                hash BLOB NOT NULL,
                updatedAt INTEGER NOT NULL
            );
            -- Only a hash of the session token is stored, so a copy of the database logs no one in.
            CREATE TABLE session (
                tokenHash BLOB PRIMARY KEY NOT NULL,
                userId TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                createdAt INTEGER NOT NULL,
                lastSeenAt INTEGER NOT NULL,
                expiresAt INTEGER NOT NULL
            );
            CREATE INDEX session_user ON session(userId);
            CREATE INDEX session_expiry ON session(expiresAt);
            CREATE TABLE groupMembership (
                groupId TEXT NOT NULL REFERENCES userGroup(id) ON DELETE CASCADE,
                memberId TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                addedAt INTEGER NOT NULL,
                addedBy TEXT REFERENCES principal(id) ON DELETE SET NULL,
                PRIMARY KEY (groupId, memberId)
            ) WITHOUT ROWID;
            CREATE INDEX groupMembership_member ON groupMembership(memberId, groupId);
            CREATE TABLE joinRequest (
                groupId TEXT NOT NULL REFERENCES userGroup(id) ON DELETE CASCADE,
                userId TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                requestedAt INTEGER NOT NULL,
                PRIMARY KEY (groupId, userId)
            ) WITHOUT ROWID;
            CREATE TABLE tag (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                createdAt INTEGER NOT NULL
            );
            CREATE TABLE principalTag (
                principalId TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                tagId INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
                PRIMARY KEY (principalId, tagId)
            ) WITHOUT ROWID;
            CREATE INDEX principalTag_tag ON principalTag(tagId, principalId);
            """)
    }

    /// Items, their versions and the blobs behind them, and who may do what with them.
    /// A version's blob has no cascade: a blob outlives its last reference until `gc`.
    private static func createContent(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE blob (
                id TEXT PRIMARY KEY NOT NULL,
                length INTEGER NOT NULL CHECK (length >= 0),
                createdAt INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE contentItem (
                id TEXT PRIMARY KEY NOT NULL,
                resourceType TEXT NOT NULL DEFAULT 'sakai/pooled-content',
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                mimeType TEXT NOT NULL,
                visibility TEXT NOT NULL CHECK (visibility IN ('public', 'logged-in', 'private')),
                currentVersion INTEGER NOT NULL,
                createdAt INTEGER NOT NULL,
                createdBy TEXT REFERENCES principal(id) ON DELETE SET NULL,
                lastModifiedAt INTEGER NOT NULL,
                lastModifiedBy TEXT REFERENCES principal(id) ON DELETE SET NULL,
                bodyLastModifiedAt INTEGER NOT NULL,
                properties TEXT NOT NULL DEFAULT '{}'
            );
            CREATE INDEX contentItem_lastModified ON contentItem(lastModifiedAt);
            CREATE INDEX contentItem_createdBy ON contentItem(createdBy);
            CREATE TABLE contentVersion (
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                number INTEGER NOT NULL CHECK (number >= 1),
                blobId TEXT REFERENCES blob(id),
                length INTEGER NOT NULL CHECK (length >= 0),
                mimeType TEXT NOT NULL,
                fileName TEXT NOT NULL,
                savedAt INTEGER NOT NULL,
                savedBy TEXT REFERENCES principal(id) ON DELETE SET NULL,
                properties TEXT NOT NULL DEFAULT '{}',
                PRIMARY KEY (itemId, number)
            ) WITHOUT ROWID;
            CREATE INDEX contentVersion_blob ON contentVersion(blobId);
            CREATE TABLE contentGrant (
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                principalId TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('manager', 'editor', 'viewer')),
                grantedAt INTEGER NOT NULL,
                PRIMARY KEY (itemId, principalId, role)
            ) WITHOUT ROWID;
            CREATE INDEX contentGrant_principal ON contentGrant(principalId, itemId);
            CREATE TABLE contentTag (
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                tagId INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
                PRIMARY KEY (itemId, tagId)
            ) WITHOUT ROWID;
            CREATE INDEX contentTag_tag ON contentTag(tagId, itemId);
            CREATE TABLE comment (
                id INTEGER PRIMARY KEY,
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                authorId TEXT REFERENCES principal(id) ON DELETE SET NULL,
                body TEXT NOT NULL,
                createdAt INTEGER NOT NULL,
                editedAt INTEGER
            );
            CREATE INDEX comment_item ON comment(itemId, createdAt);
            """)
    }

    /// Messages, contacts and activities.
    /// A message is stored once per mailbox that holds it, under the same id (delivery copies
    /// the sender's outbox message into each recipient's inbox).
    private static func createSocial(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE message (
                ownerId TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                box TEXT NOT NULL,
                messageBox TEXT NOT NULL,
                type TEXT NOT NULL,
                category TEXT NOT NULL DEFAULT 'message',
                fromId TEXT REFERENCES principal(id) ON DELETE SET NULL,
                recipients TEXT NOT NULL,
                subject TEXT NOT NULL DEFAULT '',
                body TEXT NOT NULL DEFAULT '',
                isRead INTEGER NOT NULL DEFAULT 0,
                sendState TEXT NOT NULL,
                previousMessageId TEXT,
                createdAt INTEGER NOT NULL,
                properties TEXT NOT NULL DEFAULT '{}',
                PRIMARY KEY (ownerId, id)
            ) WITHOUT ROWID;
            CREATE INDEX message_box ON message(ownerId, messageBox, category, createdAt);
            CREATE TABLE contact (
                ownerId TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                contactId TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                state TEXT NOT NULL CHECK (state IN ('pending', 'invited', 'accepted', 'ignored', 'blocked')),
                types TEXT NOT NULL DEFAULT '[]',
                updatedAt INTEGER NOT NULL,
                PRIMARY KEY (ownerId, contactId)
            ) WITHOUT ROWID;
            CREATE INDEX contact_state ON contact(ownerId, state);
            CREATE TABLE activity (
                id INTEGER PRIMARY KEY,
                actorId TEXT REFERENCES principal(id) ON DELETE SET NULL,
                itemId TEXT REFERENCES contentItem(id) ON DELETE CASCADE,
                groupId TEXT REFERENCES userGroup(id) ON DELETE CASCADE,
                sourcePath TEXT NOT NULL,
                appId TEXT NOT NULL,
                templateId TEXT NOT NULL,
                messageKey TEXT NOT NULL,
                createdAt INTEGER NOT NULL,
                properties TEXT NOT NULL DEFAULT '{}'
            );
            CREATE INDEX activity_item ON activity(itemId, createdAt);
            CREATE INDEX activity_actor ON activity(actorId, createdAt);
            CREATE INDEX activity_group ON activity(groupId, createdAt);
            """)
    }

    /// The generic JSON tree that the UI keeps its own page structures in (`/~id/...`,
    /// `/p/id/...`), with per-path access entries for its `modifyAce` calls.
    private static func createNodeStore(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE node (
                path TEXT PRIMARY KEY NOT NULL,
                parentPath TEXT,
                properties TEXT NOT NULL DEFAULT '{}',
                createdAt INTEGER NOT NULL,
                createdBy TEXT,
                lastModifiedAt INTEGER NOT NULL,
                lastModifiedBy TEXT
            ) WITHOUT ROWID;
            CREATE INDEX node_parent ON node(parentPath);
            CREATE TABLE nodeAccess (
                path TEXT NOT NULL,
                principalId TEXT NOT NULL,
                privilege TEXT NOT NULL CHECK (privilege IN ('read', 'write')),
                granted INTEGER NOT NULL,
                PRIMARY KEY (path, principalId, privilege)
            ) WITHOUT ROWID;
            """)
    }

    /// Text extraction is done once per blob, so its queue is keyed by blob.
    private static func createExtractionQueue(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE extractionJob (
                blobId TEXT PRIMARY KEY NOT NULL REFERENCES blob(id) ON DELETE CASCADE,
                state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                enqueuedAt INTEGER NOT NULL,
                startedAt INTEGER,
                finishedAt INTEGER,
                leaseExpiresAt INTEGER,
                outcome TEXT,
                detail TEXT
            ) WITHOUT ROWID;
            CREATE INDEX extractionJob_state ON extractionJob(state, enqueuedAt);
            """)
    }

    /// Files that bulk indexing stored, so that a second run skips what has not changed; and
    /// the owner of each running extraction job (`host:pid`), so that a restarted indexer
    /// takes back the jobs of a process that died.
    private static func createImportedFile(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE extractionJob ADD COLUMN owner TEXT;
            CREATE TABLE importedFile (
                path TEXT PRIMARY KEY NOT NULL,
                size INTEGER NOT NULL,
                modifiedAt INTEGER NOT NULL,
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                importedAt INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX importedFile_item ON importedFile(itemId);
            """)
    }

    /// The queue is read by state only to take the oldest pending jobs; jobs that are running or
    /// done need no index entry, so claiming a job drops its entry and finishing it touches no
    /// index at all (instead of moving an entry at each step). How an extraction ended is the
    /// index's record (`blobText`), not the queue's.
    private static func indexPendingJobsOnly(_ db: Database) throws {
        try db.execute(sql: """
            DROP INDEX extractionJob_state;
            CREATE INDEX extractionJob_pending ON extractionJob(enqueuedAt) WHERE state = 'pending';
            ALTER TABLE extractionJob DROP COLUMN outcome;
            ALTER TABLE extractionJob DROP COLUMN detail;
            """)
    }

    /// Which role of a group manages it is a fact of the data (the world template's
    /// `isManagerRole`), never read from a role's id: a user called `alice-manager` is no
    /// manager of anything.
    private static func markManagerRoles(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE userGroup ADD COLUMN isManagerRole INTEGER NOT NULL DEFAULT 0 CHECK (isManagerRole IN (0, 1));
            CREATE INDEX userGroup_managerRole ON userGroup(parentId) WHERE isManagerRole;
            """)
    }

    /// Principals that held a role in an item and hold none now: an item's access list keeps
    /// naming them with nothing granted, as Nakamura's access entries stay behind emptied.
    private static func createFormerGrantee(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE formerGrantee (
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                principalId TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                PRIMARY KEY (itemId, principalId)
            ) WITHOUT ROWID;
            """)
    }

    /// Child resources of an item (`POST /p/<id>.resource.html`): files or field sets a Sakai
    /// doc refers to by id. A resource's blob is a reference like a version's, for `gc`.
    private static func createContentResource(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE contentResource (
                itemId TEXT NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                blobId TEXT REFERENCES blob(id),
                length INTEGER NOT NULL DEFAULT 0 CHECK (length >= 0),
                mimeType TEXT NOT NULL,
                fileName TEXT NOT NULL,
                createdAt INTEGER NOT NULL,
                createdBy TEXT REFERENCES principal(id) ON DELETE SET NULL,
                properties TEXT NOT NULL DEFAULT '{}',
                PRIMARY KEY (itemId, id)
            ) WITHOUT ROWID;
            CREATE INDEX contentResource_blob ON contentResource(blobId);
            """)
    }

    /// Who manages a group (`rep:group-managers`: users, groups or role groups) and who may see
    /// it (`rep:group-viewers`, which may also name `everyone` and `anonymous`, so no foreign
    /// key there).
    private static func createGroupManagersAndViewers(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE groupManager (
                groupId TEXT NOT NULL REFERENCES userGroup(id) ON DELETE CASCADE,
                principalId TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                PRIMARY KEY (groupId, principalId)
            ) WITHOUT ROWID;
            CREATE INDEX groupManager_principal ON groupManager(principalId, groupId);
            CREATE TABLE groupViewer (
                groupId TEXT NOT NULL REFERENCES userGroup(id) ON DELETE CASCADE,
                principalId TEXT NOT NULL,
                PRIMARY KEY (groupId, principalId)
            ) WITHOUT ROWID;
            """)
    }
}
