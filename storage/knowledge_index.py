"""The knowledge index: the owner's Markdown documents, searchable by question.

Documents (`*.md` in the knowledge folder) are cut into passages at `##`
headings (long sections by paragraphs, ~800 chars). Passages live in the
Chroma collection "knowledge" (offline hashed n-gram embedding) and, for the
lexical side, in memory. A sync re-embeds only files whose content changed
and drops passages of deleted files; a search re-syncs first when a file's
mtime changed (checked at most once a second, in a thread).

Search is hybrid: BM25 over normalized words (a word also finds its
inflections: "entrega"/"entregan", "hora"/"horario"), with a bilingual expansion
lexicon (config/lexicon/knowledge.yaml: "deliver" also looks for "envío"),
plus vector similarity. A relevance floor on how much of the question a
passage covers makes an uncovered question return nothing, so the bot never
answers from a passage that merely shares a word with the question.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from chromadb.api.models.Collection import Collection
from rapidfuzz import fuzz, process

from storage.embedding import STOPWORDS, get_collection, normalize, open_chroma, tokens

LEXICON_PATH = Path(__file__).resolve().parent.parent / "config" / "lexicon" / "knowledge.yaml"
COLLECTION = "knowledge"
CHUNK_CHARS = 800
CHUNKER_VERSION = "1"  # part of each file's hash: a new chunker re-indexes everything once
UNKNOWN_WORD = 0.7  # weight of a question word the documents never use, as a share of the rarest word's
TOPIC_WEIGHT = 1.5  # a question word that names a document ("garantía", "envíos") weighs this much more
PRODUCT_WEIGHT = 0.35  # a question word that only names a product of the catalog weighs this much
CHATTY_FLOOR = 0.7  # the relevance floor of a message of CHATTY_WORDS + 3 question words or more, as a share
CHATTY_WORDS = 5  # from this many question words on, a word the documents never use weighs less
HEADING_BOOST = 2  # heading words count this many extra times in a passage
SEPARATOR = " › "
_BATCH = 5000
_K1, _B = 1.2, 0.75
# Ranking of passages above the floor (weights add up to 1: the score is 0-1).
W_BM25, W_COVERAGE, W_HEADING, W_VECTOR = 0.45, 0.25, 0.15, 0.15


_ASKS_DURATION = re.compile(r"\b(?:cuant[oa]s? (?:dias|tiempo|semanas|meses)|how long|how many days|plazo|"
                            r"hasta cuando|until when|deadline)\b")
_FOR_WHAT = re.compile(r"\b(?:es|son|lo|la|los|las)? ?(?:para|for) (?:mi|mis|nuestro|nuestra|nuestros|nuestras|my|our) (\w+)"
                       r"|\b(?:porque|xq|pq|porq|because|since|ya que) ([^?¿.]*)")  # "…? xq no llego a pasar"
_ASKS_COST = re.compile(r"\b(?:cuanto (?:sale|cuesta|cobran|cobras|cobra|vale|es|seria|saldria|me sale|me cobran)|"
                        r"que (?:costo|precio|valor) tiene|costo|how much|what does it cost|cost|price|fee|charge)\b")
_ABBREVIATION = re.compile(
    r"\b(?:[A-Z]|av|avda|dr|dra|sr|sra|srta|ing|lic|arq|st|mr|mrs|ms|no|nº|n°|nro|tel|int|dto|depto|gral|pje|bv|blvd|"
    r"esq|km|ej|p|pág|aprox|etc|approx|vs)\.$", re.IGNORECASE)


_TRANSLATION = re.compile(r"^(?P<base>.+)\.(?P<lang>[a-z]{2})\.md$")


def document_language(name: str) -> tuple[str, str | None]:
    """("envios", "en") for "envios.en.md", a translation; ("envios", None) for "envios.md", the original."""
    match = _TRANSLATION.match(name)
    return (match["base"], match["lang"]) if match else (name.removesuffix(".md"), None)


def _sentences(text: str) -> list[str]:
    """`text` cut into sentences, not after an abbreviation ("Av. Warnes", "Dr.", "p. ej.", "N°.")."""
    out: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+|\n\s*\n", text):
        piece = " ".join(piece.split())
        if not piece:
            continue
        if out and _ABBREVIATION.search(out[-1]) and not out[-1].endswith(("!", "?")):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


@dataclass(frozen=True)
class Passage:
    source: str  # "horarios.md › Domingos"
    text: str
    score: float
    original: str = ""  # the text in the document searched, when `text` is its translation


@dataclass(frozen=True)
class _Chunk:
    id: str
    file: str
    heading: str
    text: str
    terms: Counter[str] = field(compare=False)
    head_terms: frozenset[str] = field(compare=False)  # file name, title and section heading
    section_terms: frozenset[str] = field(compare=False)  # the section heading alone

    @property
    def source(self) -> str:
        return f"{self.file}{SEPARATOR}{self.heading}"

    @property
    def length(self) -> int:
        return sum(self.terms.values())


# -- text ------------------------------------------------------------------------


def related(a: str, b: str) -> bool:
    """Same word up to a short ending: "entrega"/"entregan", "hora"/"horario", "pagar"/"pago" (not "mano"/"mandan").

    Stricter than a fixed-length prefix stem, which would join "instagram"
    with "instalados": the shared start must be most of the shorter word and
    neither ending longer than three letters.
    """
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 4 or not (a.isalpha() and b.isalpha()):
        return False
    n = 0
    while n < short and a[n] == b[n]:
        n += 1
    longest_ending = 2 if n == 3 else 3  # on a 3-letter stem only short endings: "pago"/"pagar", not "mano"/"mandan"
    return n >= max(3, min(5, short - 1)) and len(a) - n <= longest_ending and len(b) - n <= longest_ending


# Words of a document's title that say nothing of its topic ("Dónde estamos", "Uso de productos").
_NOT_TOPICS = frozenset("donde estamo estamos como cuando nuestro nuestra producto productos general medio medios "
                        "informacion preguntas frecuentes".split())

# Function words never count as topic, in documents or questions (beyond embedding.STOPWORDS).
FUNCTION_WORDS = frozenset(
    """entre desde hasta sobre tras segun durante mediante contra hacia ante bajo cada todo toda todos todas
    otro otra otros otras este esta estos estas ese esa esos esas aquel muy mas menos tambien pero sino porque
    ni ya si no nos les te ti yo vos usted ustedes ser estar sea son era fue hay ha han he hemos cual cuales
    quien como cuando tan tanto bien aqui aca alli ahi alla
    from by at as it its be was were been this that these those there here which who what when how your our
    their they them we us my me if so not no than then also just very""".split()
)


def _terms(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS and t not in FUNCTION_WORDS]


def _paragraphs(body: str, max_chars: int) -> list[str]:
    """Paragraphs with hard-wrapped lines joined; one longer than `max_chars` is cut between sentences."""
    out: list[str] = []
    for raw in re.split(r"\n\s*\n", body):
        para = " ".join(raw.split())
        if len(para) <= max_chars:
            out.extend([para] if para else [])
            continue
        piece = ""
        for sentence in re.split(r"(?<=[.!?])\s+", para):
            if piece and len(piece) + len(sentence) + 1 > max_chars:
                out.append(piece)
                piece = ""
            piece = f"{piece} {sentence}".strip()
        out.extend([piece] if piece else [])
    return out


def chunk_markdown(name: str, content: str, max_chars: int = CHUNK_CHARS) -> list[tuple[str, str]]:
    """(heading, text) passages: one per `##` section, long ones split by paragraphs.

    Text before the first `##` goes under the `#` title (or the file name).
    """
    title = Path(name).stem.replace("-", " ").capitalize()
    sections: list[tuple[str, list[str]]] = [(title, [])]
    for line in content.splitlines():
        if line.startswith("# ") and not sections[0][1] and len(sections) == 1:
            title = line[2:].strip() or title
            sections[0] = (title, [])
        elif line.startswith("## "):
            sections.append((line[3:].strip() or title, []))
        else:
            sections[-1][1].append(line)
    out: list[tuple[str, str]] = []
    for heading, lines in sections:
        piece: list[str] = []
        for para in _paragraphs("\n".join(lines), max_chars):
            if piece and len(" ".join(piece)) + len(para) + 2 > max_chars:
                out.append((heading, "\n\n".join(piece)))
                piece = []
            piece.append(para)
        if piece:
            out.append((heading, "\n\n".join(piece)))
    return out


def _file_hash(content: str) -> str:
    return hashlib.sha256(f"{CHUNKER_VERSION}\x1f{content}".encode()).hexdigest()[:32]


def _build_chunks(name: str, content: str) -> list[_Chunk]:
    pieces = chunk_markdown(name, content)
    title = content.lstrip().splitlines()[0][2:] if content.lstrip().startswith("# ") else ""
    file_terms = set(_terms(Path(name).stem.replace("-", " ")) + _terms(title))
    chunks = []
    for i, (heading, text) in enumerate(pieces):
        section = set(_terms(heading))
        head = file_terms | section
        terms = Counter(_terms(f"{heading}\n{text}"))
        for term in head:
            terms[term] += HEADING_BOOST
        chunks.append(_Chunk(f"{name}#{i}", name, heading, text, terms, frozenset(head), frozenset(section)))
    return chunks


# -- lexicon -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexicon:
    expansions: dict[str, frozenset[str]]  # word -> words it also searches for
    phrases: dict[str, tuple[str, ...]]  # word -> the expansions as written (for the vector query)
    stopwords: frozenset[str]
    min_coverage: float
    anchored_coverage: float
    expansion_weight: float
    fuzzy_weight: float
    fuzzy_min_ratio: float


@lru_cache(maxsize=4)
def _parse_lexicon(path: str, _mtime_ns: int) -> _Lexicon:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    expansions: dict[str, set[str]] = {}
    phrases: dict[str, list[str]] = {}
    for key, values in (raw.get("expansions") or {}).items():
        for word in tokens(str(key)):
            expansions.setdefault(word, set()).update(t for v in values or [] for t in _terms(str(v)))
            phrases.setdefault(word, []).extend(str(v) for v in values or [])
    floor = raw.get("floor") or {}
    return _Lexicon(
        expansions={k: frozenset(v) for k, v in expansions.items()},
        phrases={k: tuple(v) for k, v in phrases.items()},
        stopwords=frozenset(t for w in raw.get("stopwords") or [] for t in tokens(str(w))) | STOPWORDS,
        min_coverage=float(floor.get("min_coverage", 0.65)),
        anchored_coverage=float(floor.get("anchored_coverage", 0.4)),
        expansion_weight=float(floor.get("expansion_weight", 0.7)),
        fuzzy_weight=float(floor.get("fuzzy_weight", 0.8)),
        fuzzy_min_ratio=float(floor.get("fuzzy_min_ratio", 85)),
    )


_NO_LEXICON = _Lexicon({}, {}, STOPWORDS, 0.65, 0.4, 0.7, 0.8, 85)


def _load_lexicon(path: Path) -> _Lexicon:
    """The lexicon, re-parsed when the file changes (sync: call in a thread)."""
    try:
        return _parse_lexicon(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return _NO_LEXICON


# -- the index -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """One word of the question and the document words that count as finding it, with weights."""

    word: str
    terms: dict[str, float]
    phrases: tuple[str, ...] = ()
    bonus: bool = False  # ranks a passage that has it higher, never counts against one that lacks it
    topic: bool = False  # names a document's own topic ("garantía", "envíos")
    product: bool = False  # names a product of the catalog, not a topic of the documents ("taladro")


@dataclass(frozen=True)
class _Match:
    bm25: float
    coverage: float  # idf-weighted share of the question's words the chunk contains
    in_heading: float  # the same share, counting only words in the chunk's own heading
    anchored: bool  # some question word is in the file name, title or heading


@dataclass(frozen=True)
class _Corpus:
    chunks: tuple[_Chunk, ...] = ()
    df: dict[str, int] = field(default_factory=dict)
    avg_len: float = 1.0
    _related: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    topics: frozenset[str] = frozenset()  # the words of the documents' own names and titles ("garantia")

    @classmethod
    def build(cls, chunks: list[_Chunk]) -> _Corpus:
        df: Counter[str] = Counter()
        for c in chunks:
            df.update(c.terms.keys())
        avg = sum(c.length for c in chunks) / len(chunks) if chunks else 1.0
        topics = frozenset(t for c in chunks for t in c.head_terms - c.section_terms
                           if len(t) >= 4 and t not in _NOT_TOPICS)
        return cls(tuple(chunks), dict(df), avg, topics=topics)

    def related(self, word: str) -> tuple[str, ...]:
        """The corpus words that count as `word` (memoized per corpus)."""
        found = self._related.get(word)
        if found is None:
            found = (
                tuple(w for w in self.df if related(word, w))
                if word not in self.df or len(word) >= 4
                else (word,)
            )
            self._related[word] = found
        return found

    def idf(self, term: str) -> float:
        n, df = len(self.chunks), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    @property
    def rare_idf(self) -> float:
        """The idf of a word found once: what a word the documents lack weighs in coverage."""
        return math.log(1 + (len(self.chunks) - 0.5) / 1.5) if self.chunks else 1.0


def _asked(groups: list[_Group]) -> int:
    """How many words the question asks with (bonus groups only rank, they ask nothing)."""
    return sum(1 for g in groups if not g.bonus)


def _floor_scale(groups: list[_Group]) -> float:
    """The share of the relevance floor a message must clear: all of it up to CHATTY_WORDS question words, then
    less with each word, down to CHATTY_FLOOR at CHATTY_WORDS + 3 (no step where one more word flips it)."""
    return 1.0 - (1.0 - CHATTY_FLOOR) * min(1.0, max(0, _asked(groups) - CHATTY_WORDS) / 3)


def _chatty(groups: list[_Group]) -> bool:
    """A long message (CHATTY_WORDS + 3 question words or more): it covers less of itself with any passage."""
    return _asked(groups) >= CHATTY_WORDS + 3


class KnowledgeIndex:
    """Owner-written Markdown documents, searchable by question. Create once; `await start()`."""

    def __init__(
        self,
        directory: Path,
        index_dir: Path,
        *,
        lexicon_path: Path = LEXICON_PATH,
        check_interval: float = 1.0,
    ) -> None:
        self.directory = Path(directory)
        self.index_dir = Path(index_dir)
        self.lexicon_path = lexicon_path
        self.check_interval = check_interval
        self._collection: Collection | None = None
        self._corpus = _Corpus()
        self._mtimes: dict[str, int] = {}
        self._checked = 0.0
        self._lexicon = _NO_LEXICON
        self._originals: _Corpus | None = None  # the passages searched: translations left out (see `_searched`)
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> dict[str, Any]:
        """Open (or create) the Chroma collection and bring it up to date with the folder."""
        return await self.sync()

    async def sync(self) -> dict[str, Any]:
        """Re-index changed files, drop removed ones.

        Returns `{"indexed": [files re-embedded], "removed": [files], "unchanged": n, "chunks": n}`.
        """
        async with self._lock:
            if self._collection is None:
                self._collection = await asyncio.to_thread(
                    lambda: get_collection(open_chroma(self.index_dir), COLLECTION)
                )
            self._lexicon = await asyncio.to_thread(_load_lexicon, self.lexicon_path)
            return await asyncio.to_thread(self._sync_blocking)

    def _scan(self) -> dict[str, int]:
        if not self.directory.is_dir():
            return {}
        return {p.name: p.stat().st_mtime_ns for p in self.directory.glob("*.md") if p.is_file()}

    def _sync_blocking(self) -> dict[str, Any]:
        collection = self._collection
        assert collection is not None
        mtimes = self._scan()
        contents: dict[str, str] = {}
        for name in sorted(mtimes):
            try:
                contents[name] = (self.directory / name).read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:  # deleted since the scan: it counts as removed
                mtimes.pop(name)
        hashes = {name: _file_hash(text) for name, text in contents.items()}

        stored: dict[str, str] = {}
        for meta in collection.get(include=["metadatas"])["metadatas"] or []:
            if meta:
                stored[str(meta["file"])] = str(meta.get("file_hash", ""))
        changed = [name for name in contents if stored.get(name) != hashes[name]]
        removed = sorted(set(stored) - set(contents))

        chunks: dict[str, list[_Chunk]] = {name: _build_chunks(name, text) for name, text in contents.items()}
        for name in removed + [n for n in changed if n in stored]:
            collection.delete(where={"file": name})
        new = [c for name in changed for c in chunks[name]]
        for start in range(0, len(new), _BATCH):
            batch = new[start : start + _BATCH]
            collection.add(
                ids=[c.id for c in batch],
                documents=[f"{c.heading}\n{c.text}" for c in batch],
                metadatas=[
                    {"file": c.file, "heading": c.heading, "file_hash": hashes[c.file]} for c in batch
                ],
            )
        self._corpus = _Corpus.build([c for name in sorted(chunks) for c in chunks[name]])
        self._originals = None
        self._mtimes = mtimes
        self._checked = time.monotonic()
        return {
            "indexed": changed,
            "removed": removed,
            "unchanged": len(contents) - len(changed),
            "chunks": len(self._corpus.chunks),
        }

    async def refresh(self) -> None:
        """Re-sync if a file was added, removed or touched; at most one disk check per interval."""
        if time.monotonic() - self._checked < self.check_interval:
            return
        self._checked = time.monotonic()
        if await asyncio.to_thread(self._scan) != self._mtimes:
            await self.sync()

    # -- search ----------------------------------------------------------------------

    def _groups(self, question: str, lex: _Lexicon, corpus: _Corpus,
                products: frozenset[str] = frozenset()) -> list[_Group]:
        groups: dict[str, _Group] = {}
        for word in tokens(question):
            if word in lex.stopwords or word in FUNCTION_WORDS or word in groups or len(word) < 2:
                continue
            terms = dict.fromkeys(corpus.related(word), 1.0)
            for other in lex.expansions.get(word, ()):
                for term in corpus.related(other):
                    terms.setdefault(term, lex.expansion_weight)
            if not terms and len(word) >= 6 and corpus.df:
                match = process.extractOne(word, corpus.df.keys(), scorer=fuzz.ratio)  # a typo: "orario"
                if match and match[1] >= lex.fuzzy_min_ratio:
                    terms[match[0]] = lex.fuzzy_weight
            topic = any(t in corpus.topics for t in terms)
            groups[word] = _Group(word, terms, lex.phrases.get(word, ()), topic=topic,
                                  product=word in products and not topic)
        for purpose in _FOR_WHAT.finditer(normalize(question)):
            # "¿qué garantía tiene una llave francesa? es para mi taller": what it is for asks nothing
            for word in tokens(purpose.group(1) or purpose.group(2) or ""):
                if word in groups and not groups[word].topic:
                    groups[word] = replace(groups[word], bonus=True)
        if not any(g.topic for g in groups.values()):
            # no document's topic named ("¿cuánto espero entre mano y mano de látex?"): the product is the topic
            groups = {w: replace(g, product=False) for w, g in groups.items()}
        if _ASKS_DURATION.search(normalize(question)):
            # "¿cuántos días tengo para…?", "how long do I have…": the passage that states a term or a deadline
            terms = {t: 1.0 for word in ("plazo", "dias", "dentro") for t in corpus.related(word)}
            if terms:
                groups["plazo"] = _Group("plazo", terms, ("plazo",), bonus=True)
        if _ASKS_COST.search(normalize(question)):
            # "¿cuánto sale el envío a Lanús?": the passage that states a cost, over the one that lists zones
            terms = {t: 1.0 for word in ("cuesta", "costo", "cobramos", "cargo") for t in corpus.related(word)}
            if terms:
                groups["costo"] = _Group("costo", terms, ("costo",), bonus=True)
        return list(groups.values())

    def _lexical(self, groups: list[_Group], corpus: _Corpus) -> dict[str, _Match]:
        """BM25 and coverage of every chunk that contains at least one word of the question."""
        # A word the documents never use (a verb of courtesy, "almacén" for "local", a typo) counts, but
        # half: it may be the topic the documents lack ("¿aceptan mascotas?"), or just how a customer talks.
        # In a long, chatty message most unknown words are how the customer talks ("compré una pinza hace dos
        # semanas y ni la abrí…"), not a topic the documents lack: they weigh less the more words there are.
        unknown = corpus.rare_idf * UNKNOWN_WORD * min(1.0, CHATTY_WORDS / max(1, len(groups)))
        chatty = _chatty(groups)  # the words naming a document weigh more in a long message, not in a short one
        weights = [
            min(corpus.rare_idf, max((corpus.idf(t) for t in g.terms), default=unknown))
            * (TOPIC_WEIGHT if chatty and g.topic else PRODUCT_WEIGHT if g.product else 1.0)
            for g in groups
        ]
        total = sum(w for w, g in zip(weights, groups, strict=True) if not g.bonus) or 1.0
        out: dict[str, _Match] = {}
        for chunk in corpus.chunks:
            bm25 = covered = titled = 0.0
            anchored = False
            norm = _K1 * (1 - _B + _B * chunk.length / corpus.avg_len)
            for group, weight in zip(groups, weights, strict=True):
                best = 0.0
                in_heading = False
                for s, w in group.terms.items():
                    tf = chunk.terms.get(s, 0)
                    if tf:
                        best = max(best, w * corpus.idf(s) * tf * (_K1 + 1) / (tf + norm))
                        # in its heading, or a word of the lexicon no other passage uses ("arrepentimiento"):
                        # about this passage
                        anchored = anchored or s in chunk.head_terms or (
                            corpus.df.get(s) == 1 and bool(group.phrases) and not group.product and not group.bonus)
                        in_heading = in_heading or s in chunk.section_terms
                if best:
                    bm25 += best
                    if not group.bonus:
                        covered += weight
                        titled += weight if in_heading else 0.0
            if bm25:
                out[chunk.id] = _Match(bm25, covered / total, titled / total, anchored)
        return out

    def _vector(self, text: str, n: int) -> dict[str, float]:
        collection = self._collection
        if collection is None or n <= 0:
            return {}
        res = collection.query(query_texts=[text], n_results=n, include=["distances"])
        return {i: max(0.0, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)}

    def _searched(self) -> _Corpus:
        """The passages a question is searched in: the originals, a translation ("envios.en.md" beside
        "envios.md") only when its original is gone; a passage found is given in the customer's language later."""
        if self._originals is not None:
            return self._originals
        corpus = self._corpus
        files = {c.file for c in corpus.chunks}
        variants: dict[str, dict[str | None, str]] = {}
        for name in files:
            base, language = document_language(name)
            variants.setdefault(base, {})[language] = name
        searched = {by_lang.get(None) or by_lang[min(by_lang, key=lambda x: x or "")] for by_lang in variants.values()}
        self._originals = corpus if len(searched) == len(files) else _Corpus.build(
            [c for c in corpus.chunks if c.file in searched])
        return self._originals

    async def search(self, question: str, k: int = 3, products: frozenset[str] = frozenset(),
                     lang: str | None = None) -> list[Passage]:
        """Best passages for the question, best first; [] when the documents don't cover it.

        `products`: the catalog's name words; in "¿qué garantía tiene el taladro percutor?" they weigh less
        than the topic ("garantía"), so the warranty answers rather than how to use a drill.
        `lang`: the customer's language. The originals are searched (the lexicon bridges the languages);
        a passage found is then given from the document's translation into `lang` when the owner wrote one
        ("envios.en.md" beside "envios.md", section for section)."""
        if self._collection is None:
            await self.sync()
        else:
            await self.refresh()
        corpus = self._searched()
        lex = self._lexicon = await asyncio.to_thread(_load_lexicon, self.lexicon_path)
        groups = self._groups(question, lex, corpus, products)
        if not groups or not corpus.chunks:
            return []
        # A long message covers less of itself with any one passage: its floor is lower (`_floor_scale`).
        scale = _floor_scale(groups)
        eligible = {
            cid: m
            for cid, m in self._lexical(groups, corpus).items()
            if m.coverage >= lex.min_coverage * scale or (m.anchored and m.coverage >= lex.anchored_coverage * scale)
        }
        if not eligible:
            return []
        expanded = " ".join([question, *(p for g in groups for p in g.phrases)])
        vector = await asyncio.to_thread(self._vector, expanded, min(len(corpus.chunks), 20))
        top_bm25 = max(m.bm25 for m in eligible.values())
        top_vec = max(vector.values(), default=0.0) or 1.0
        by_id = {c.id: c for c in corpus.chunks}
        ranked = sorted(
            (
                (
                    W_BM25 * m.bm25 / top_bm25
                    + W_COVERAGE * m.coverage
                    + W_HEADING * m.in_heading
                    + W_VECTOR * vector.get(cid, 0.0) / top_vec,
                    by_id[cid],
                )
                for cid, m in eligible.items()
            ),
            key=lambda pair: (-pair[0], pair[1].id),
        )
        return [Passage((shown := self._in_language(chunk, lang)).source, shown.text, round(score, 3),
                        chunk.text if shown is not chunk else "")
                for score, chunk in ranked[:k]]

    def _in_language(self, chunk: _Chunk, lang: str | None) -> _Chunk:
        """The same passage in the document's translation into `lang`: the chunk at the same place, or the
        first of the section at the same place; the original when there is no translation or they differ."""
        if not lang:
            return chunk
        base, language = document_language(chunk.file)
        if language == lang:
            return chunk
        theirs = [c for c in self._corpus.chunks if c.file == f"{base}.{lang}.md"]
        if not theirs:
            return chunk
        mine = [c for c in self._corpus.chunks if c.file == chunk.file]
        if len(theirs) == len(mine):
            return theirs[mine.index(chunk)]
        sections, translated = list(dict.fromkeys(c.heading for c in mine)), list(dict.fromkeys(c.heading for c in theirs))
        if len(sections) != len(translated):
            return chunk
        heading = translated[sections.index(chunk.heading)]
        return next(c for c in theirs if c.heading == heading)

    def answer(self, passage: Passage, question: str, max_chars: int = 500, sentences: int | None = None) -> str:
        """`excerpt` of a passage; of a translated one, the sentences at the places chosen in the original
        (where the lexicon that bridges the languages is at home), when both have as many sentences."""
        if passage.original:
            mine, theirs = _body(passage.original), _body(passage.text)
            chosen = self._chosen(mine, question, max_chars, sentences)
            if len(mine) == len(theirs):
                return _joined([theirs[i] for i in chosen], max_chars)
            # cut differently ("factura A o B. Para…" is one sentence, its translation two): the translated
            # sentences that lie, in proportion, where the chosen ones lie in the original
            spans = [_span(mine, i) for i in chosen]
            kept = [t for j, t in enumerate(theirs)
                    if any(a <= sum(_span(theirs, j)) / 2 <= b for a, b in spans)]
            if kept:
                return _joined(kept, max_chars + max_chars // 4)
        return self.excerpt(passage.text, question, max_chars, sentences)

    def excerpt(self, text: str, question: str, max_chars: int = 500, sentences: int | None = None) -> str:
        """The sentences of `text` most relevant to `question`, in order, within ~max_chars; at most
        `sentences` of them (the best one, and the next ones only if they share the question's words)."""
        text = text.strip()
        if len(text) <= max_chars and sentences is None:
            return text
        parts = _body(text)
        return _joined([parts[i] for i in self._chosen(parts, question, max_chars, sentences)], max_chars)

    def _chosen(self, parts: list[str], question: str, max_chars: int, sentences: int | None) -> list[int]:
        """The places of the sentences `excerpt` keeps, in order."""
        wanted = {t for g in self._groups(question, self._lexicon, self._corpus) for t in g.terms}
        overlap = [len(wanted & set(_terms(p))) for p in parts]
        scored = sorted(range(len(parts)), key=lambda i: (-overlap[i], i))
        if sentences is not None:
            scored = scored[:1] + [i for i in scored[1:sentences] if overlap[i] > 0]
        chosen: list[int] = []
        size = 0
        for i in scored:
            if size + len(parts[i]) + 1 > max_chars and chosen:
                continue
            chosen.append(i)
            size += len(parts[i]) + 1
        return sorted(chosen)


def _body(text: str) -> list[str]:
    """A passage's sentences, without Markdown heading lines."""
    parts = _sentences(text.strip())
    return [p for p in parts if not p.startswith("#")] or parts


def _span(parts: list[str], i: int) -> tuple[float, float]:
    """Where sentence `i` lies in its passage, as shares of the passage's length (start, end)."""
    total = sum(len(p) + 1 for p in parts) or 1
    start = sum(len(p) + 1 for p in parts[:i])
    return start / total, (start + len(parts[i]) + 1) / total


def _joined(parts: list[str], max_chars: int) -> str:
    out = " ".join(p.strip() for p in parts)
    return out if len(out) <= max_chars else out[: max_chars - 1].rstrip() + "…"
