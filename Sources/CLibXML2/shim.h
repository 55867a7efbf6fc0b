#include <libxml/xmlversion.h>
/* Debian's libxml2 headers pull in the system ICU, whose UErrorCode clashes with the copy
   Foundation carries; nothing here needs ICU-typed API. */
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* xmlFree is a global function-pointer variable, which Swift 6 refuses to touch. */
static inline void oaken_xmlFree(void *p) { xmlFree(p); }

/* Encoding errors ignore HTML_PARSE_NOERROR and print to stderr; the handler is variadic,
   which Swift cannot implement, and per thread, so it is installed before each parse. */
static void oaken_xml_noop(void *ctx, const char *msg, ...) { (void)ctx; (void)msg; }
static inline void oaken_xml_silence(void) {
    xmlSetGenericErrorFunc(NULL, oaken_xml_noop);
    xmlSetStructuredErrorFunc(NULL, NULL);
}
