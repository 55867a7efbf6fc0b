#!/usr/bin/env python3
"""Writes Oaken's corpora: real PDFs, HTML pages and text files.

  generate.py sample DIR          the small committed sample that `make serve` indexes
  generate.py golden DIR          tiny files with known text, for extraction tests
  generate.py hostile DIR         inputs built to crash, hang or exhaust an extractor
  generate.py zipf DIR --count N  N documents of each kind from a Zipf-distributed vocabulary
                                  (seeded: the same arguments write the same bytes)
"""
import argparse
import html
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import hostile  # noqa: E402
from pdfwriter import pdf_bytes  # noqa: E402

TOPICS = {
    "biology": "photosynthesis chlorophyll mitochondria enzyme protein membrane cell nucleus genome "
               "ribosome osmosis respiration organism species evolution mutation allele phenotype "
               "chloroplast glucose metabolism tissue bacteria virus ecology habitat",
    "computing": "algorithm compiler recursion database index query transaction concurrency thread "
                 "kernel memory cache hashing encryption protocol network packet latency throughput "
                 "parser grammar bytecode interpreter scheduler filesystem",
    "history": "empire dynasty revolution treaty parliament monarchy republic colony trade "
               "manuscript archive chronicle medieval renaissance industrial reform migration "
               "constitution siege alliance crusade pilgrimage guild",
    "physics": "quantum entropy momentum velocity acceleration gravity relativity photon electron "
               "neutrino magnetism thermodynamics oscillation wavelength frequency friction "
               "plasma superconductor spectrum radiation particle field",
    "literature": "novel sonnet stanza metaphor narrator protagonist tragedy comedy allegory satire "
                  "manuscript rhyme meter ballad epic prose fiction chapter dialogue irony "
                  "symbolism romanticism modernism",
    "economics": "inflation market supply demand elasticity monopoly tariff currency interest "
                 "investment labour productivity recession subsidy taxation equilibrium auction "
                 "dividend liquidity budget deficit",
    "geology": "sediment basalt granite tectonic magma erosion glacier fossil stratum volcano "
               "earthquake mineral quartz limestone aquifer delta canyon bedrock moraine",
    "music": "harmony melody rhythm counterpoint symphony sonata fugue chord cadence tempo "
             "orchestra concerto timbre octave scale improvisation notation cantata",
}
FILLER = ("the of and to in a is that for it as with was on be by this are from or at an which "
          "study results method analysis data students course lecture notes week research "
          "example question answer section figure table reading seminar").split()


def sentence(rng, words, length):
    picked = [rng.choice(words) if rng.random() < 0.45 else rng.choice(FILLER) for _ in range(length)]
    text = " ".join(picked)
    return text[0].upper() + text[1:] + "."


def paragraph(rng, words):
    return " ".join(sentence(rng, words, rng.randint(8, 18)) for _ in range(rng.randint(3, 6)))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def html_page(title, paragraphs, description=None, charset="utf-8", extra_head=""):
    meta = f'<meta name="description" content="{html.escape(description)}">' if description else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html><head><meta charset="{charset}"><title>{html.escape(title)}</title>'
            f"{meta}{extra_head}</head>\n<body><h1>{html.escape(title)}</h1>\n{body}\n"
            "<script>var ignored = 'scripttext';</script><style>.x{color:red}</style></body></html>\n")


def sample(out):
    """Three documents of each kind per topic: a few dozen files under a megabyte."""
    rng = random.Random(1729)
    for topic, vocabulary in TOPICS.items():
        words = vocabulary.split()
        for n in range(1, 4):
            title = f"{topic.capitalize()} lecture {n}"
            pages = [[paragraph(rng, words) for _ in range(3)] for _ in range(rng.randint(2, 4))]
            write(os.path.join(out, topic, f"{topic}-lecture-{n}.pdf"),
                  pdf_bytes(pages, title=title, author=f"Department of {topic.capitalize()}"))
        html_title = f"{topic.capitalize()} reading list"
        write(os.path.join(out, topic, f"{topic}-reading-list.html"),
              html_page(html_title, [paragraph(rng, words) for _ in range(4)],
                        description=f"Readings for the {topic} course").encode())
        write(os.path.join(out, topic, f"{topic}-seminar.html"),
              html_page(f"{topic.capitalize()} seminar", [paragraph(rng, words) for _ in range(3)]).encode())
        write(os.path.join(out, topic, f"{topic}-notes.txt"),
              "\n\n".join(paragraph(rng, words) for _ in range(5)).encode())
        write(os.path.join(out, topic, f"{topic}-summary.md"),
              (f"# {topic.capitalize()} summary\n\n" + "\n\n".join(
                  f"- {sentence(rng, words, 10)}" for _ in range(6))).encode())


def golden(out):
    """Files whose extracted text the tests know exactly."""
    write(os.path.join(out, "three-pages.pdf"), pdf_bytes(
        [["The first page talks about photosynthesis."],
         ["The second page is about the mitochondria."],
         ["Zebrafish appear only on page three, with caf\u00e9 cr\u00e8me."]],
        title="Three Pages", author="Ada Lovelace"))
    write(os.path.join(out, "latin1.html"), html_page(
        "Caf\u00e9 menu", ["Cr\u00e8me br\u00fbl\u00e9e and na\u00efve r\u00e9sum\u00e9s."],
        description="Na\u00efve desserts", charset="iso-8859-1").encode("latin-1"))
    write(os.path.join(out, "utf8-bom.html"),
          b"\xef\xbb\xbf" + html_page("Gr\u00fc\u00dfe", ["\u00dcber die Stra\u00dfe."]).replace(
              '<meta charset="utf-8">', "").encode())
    write(os.path.join(out, "notes.md"), "# Lecture notes\n\nThe *Krebs cycle* runs in the matrix.\n".encode())
    write(os.path.join(out, "latin1.txt"), "Se\u00f1or Mu\u00f1oz ate a cr\u00eape.\n".encode("latin-1"))
    # XHTML as DocBook and many manuals write it: an XML declaration, then the XHTML doctype.
    write(os.path.join(out, "xhtml.html"), (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />'
        '<title>Chapter 9. Functions and Operators</title></head><body>'
        '<div class="chapter"><h2 class="title">Functions and Operators</h2>'
        '<p>Logical operators combine <code class="literal">boolean</code> values; na\u00efve readers skip this.</p>'
        '<script type="text/javascript">var hidden = "never indexed";</script>'
        '</div></body></html>\n').encode())


def zipf_words(rng, size):
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "dro", "ben", "cor",
                 "fal", "gis", "hum", "jat", "lex", "mor", "nup", "osk", "pel", "rin", "sut", "tav"]
    words, seen = [], set()
    while len(words) < size:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf(out, count, seed, kinds):
    rng = random.Random(seed)
    vocabulary = zipf_words(random.Random(7), 50_000)
    weights = [1 / (rank ** 1.07) for rank in range(1, len(vocabulary) + 1)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)

    def words(n):
        return rng.choices(vocabulary, cum_weights=cumulative, k=n)

    def para():
        return " ".join(words(rng.randint(40, 120)))

    for i in range(count):
        shard = os.path.join(out, f"{i // 1000:04d}")
        if "pdf" in kinds:
            pages = [[para() for _ in range(rng.randint(1, 3))] for _ in range(rng.randint(2, 6))]
            write(os.path.join(shard, f"doc-{i:07d}.pdf"), pdf_bytes(pages, title=" ".join(words(4))))
        if "html" in kinds:
            write(os.path.join(shard, f"page-{i:07d}.html"),
                  html_page(" ".join(words(5)), [para() for _ in range(rng.randint(1, 5))]).encode())
        if "txt" in kinds:
            write(os.path.join(shard, f"text-{i:07d}.txt"),
                  "\n\n".join(para() for _ in range(rng.randint(1, 5))).encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["sample", "golden", "hostile", "zipf"])
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=100, help="documents of each kind (zipf)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--kinds", default="pdf,html,txt", help="comma-separated: pdf, html, txt")
    args = parser.parse_args()
    if args.mode == "sample":
        sample(args.out)
    elif args.mode == "golden":
        golden(args.out)
    elif args.mode == "hostile":
        hostile(args.out)
    else:
        zipf(args.out, args.count, args.seed, set(args.kinds.split(",")))


if __name__ == "__main__":
    main()
