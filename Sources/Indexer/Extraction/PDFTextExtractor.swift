import CPoppler
import Foundation

/// PDF through poppler-glib: the text of each page, the page count, the title and the author.
///
/// Poppler is large C code with a history of crashes and hangs on hostile files, so the
/// indexer calls this only inside a worker process (`WorkerExtractor`) with a time and memory limit;
/// a crash costs one file. All poppler and GLib pointers stay inside `extract`.
package struct PDFTextExtractor: TextExtractor {
    package init() {}

    package func extract(fileAt path: String, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        guard size <= limits.maximumPDFBytes else { throw .tooLarge(size) }

        var error: UnsafeMutablePointer<GError>?
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let uri = g_filename_to_uri(absolute, nil, &error) else {
            defer { g_clear_error(&error) }
            throw .damaged("cannot name the file: \(Self.message(error))")
        }
        defer { g_free(uri) }
        guard let document = poppler_document_new_from_file(uri, nil, &error) else {
            defer { g_clear_error(&error) }
            if let error, error.pointee.domain == poppler_error_quark(),
                error.pointee.code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue)
            {
                throw .encrypted
            }
            throw .damaged(Self.message(error))
        }
        defer { g_object_unref(UnsafeMutableRawPointer(document)) }

        let pageCount = Int(poppler_document_get_n_pages(document))
        var budget = TextBudget(limit: limits.maximumTextBytes)
        for index in 0..<pageCount {
            if budget.isExhausted {
                // Pages past the budget are not read, but their absence is recorded.
                if index < pageCount { budget.append(" ") }
                break
            }
            guard let page = poppler_document_get_page(document, Int32(index)) else {
                budget.append("")
                continue
            }
            defer { g_object_unref(UnsafeMutableRawPointer(page)) }
            if let text = poppler_page_get_text(page) {
                budget.append(String(cString: text))
                g_free(text)
            } else {
                budget.append("")
            }
        }
        return ExtractedText(
            pages: budget.pages, hasPageNumbers: true,
            title: Self.string(poppler_document_get_title(document)),
            author: Self.string(poppler_document_get_author(document)),
            pageCount: pageCount, truncated: budget.truncated)
    }

    private static func string(_ pointer: UnsafeMutablePointer<gchar>?) -> String? {
        guard let pointer else { return nil }
        defer { g_free(pointer) }
        let value = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    private static func message(_ error: UnsafeMutablePointer<GError>?) -> String {
        guard let error, let message = error.pointee.message else { return "unreadable PDF" }
        return String(cString: message)
    }
}
