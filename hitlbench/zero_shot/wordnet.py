"""WordNet 3.0, offline: Debian's `wordnet-base` and `wordnet-sense-index` files, laid out as
nltk's WordNet reader expects, in the hitlbench cache.

nltk reads WordNet from a folder holding the Princeton database files plus a `lexnames` file;
Debian ships the database files under /usr/share/wordnet but not `lexnames` (its content is in
the lexnames(5WN) manual page), and nltk refuses symbolic links that leave its folder. So the
files are copied, `lexnames` is written from the table below, and the folder is moved into place
in one rename (atomic: parallel cells never see half a layout); its parent joins `nltk.data.path`,
the folders nltk agrees to read from.

nltk reads the data files lazily, synset by synset, and meets a damaged or truncated file only
then: it warns and hands back None for an offset where no synset begins, and raises assorted
errors for lines it cannot parse. The reader here turns both into one `HitlbenchError` line
naming the folder and the synset (`unreadable`), at the boundary, before a None travels on.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from ..core.cache import cache_root
from ..types import HitlbenchError

DEBIAN_DIR = Path("/usr/share/wordnet")
SETUP = "apt-get install -y wordnet-base wordnet-sense-index"
REINSTALL = "apt-get install -y --reinstall wordnet-base wordnet-sense-index"
# What nltk raises on a damaged file besides its WordNetError (a line it cannot parse, with the
# file and line): a bad number or encoding (ValueError), a line too short (IndexError,
# StopIteration), its own sanity checks (AssertionError), an unreadable file (OSError).
READ_ERRORS = (ValueError, LookupError, AssertionError, StopIteration, OSError)
# The database files nltk's reader opens (index.sense and cntlist.rev for sense keys and counts).
FILES = tuple(
    [f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")]
    + [f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")]
    + ["index.sense", "cntlist.rev"]
)
# WordNet 3.0's lexicographer files (lexnames(5WN)): number, name, syntactic category.
LEXNAMES = (
    ("adj.all", 3), ("adj.pert", 3), ("adv.all", 4), ("noun.Tops", 1), ("noun.act", 1),
    ("noun.animal", 1), ("noun.artifact", 1), ("noun.attribute", 1), ("noun.body", 1),
    ("noun.cognition", 1), ("noun.communication", 1), ("noun.event", 1), ("noun.feeling", 1),
    ("noun.food", 1), ("noun.group", 1), ("noun.location", 1), ("noun.motive", 1),
    ("noun.object", 1), ("noun.person", 1), ("noun.phenomenon", 1), ("noun.plant", 1),
    ("noun.possession", 1), ("noun.process", 1), ("noun.quantity", 1), ("noun.relation", 1),
    ("noun.shape", 1), ("noun.state", 1), ("noun.substance", 1), ("noun.time", 1),
    ("verb.body", 2), ("verb.change", 2), ("verb.cognition", 2), ("verb.communication", 2),
    ("verb.competition", 2), ("verb.consumption", 2), ("verb.contact", 2), ("verb.creation", 2),
    ("verb.emotion", 2), ("verb.motion", 2), ("verb.perception", 2), ("verb.possession", 2),
    ("verb.social", 2), ("verb.stative", 2), ("verb.weather", 2), ("adj.ppl", 3),
)  # fmt: skip


def _source() -> Path:
    """The folder of WordNet's database files: $HITLBENCH_WORDNET, else Debian's."""
    source = Path(os.environ.get("HITLBENCH_WORDNET") or DEBIAN_DIR)
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise HitlbenchError(
            f"WordNet 3.0 is not installed: {source} lacks {', '.join(missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''}. On Debian or Ubuntu: {SETUP} "
            "(or point HITLBENCH_WORDNET at a folder with WordNet 3.0's database files)"
        )
    return source


def layout_dir() -> Path:
    """nltk's layout of WordNet in the cache, built from the Debian files on first use."""
    source = _source()
    stamp = "-".join(str(int((source / name).stat().st_size)) for name in FILES[:4])
    target = cache_root() / "wordnet" / f"wordnet-3.0-{stamp}"
    if (target / "lexnames").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=".building-"))
    try:
        for name in FILES:
            shutil.copyfile(source / name, building / name)
        lines = [f"{i:02d}\t{name}\t{pos}\n" for i, (name, pos) in enumerate(LEXNAMES)]
        (building / "lexnames").write_text("".join(lines))
        try:
            building.rename(target)
        except OSError:  # another process built it first
            if not (target / "lexnames").is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def unreadable(folder: Path, source: Path, what: str, reason: object) -> HitlbenchError:
    """The one-line error for a part of the WordNet copy in `folder` (nltk's layout, copied from
    `source`) that could not be read: `what` names it (a synset, or the index files)."""
    # nltk's messages quote whole lines, newlines too; a line cut short raises a bare StopIteration
    reason = " ".join(str(reason).split()) or type(reason).__name__
    reason = reason if len(reason) <= 120 else reason[:117] + "..."
    return HitlbenchError(
        f"WordNet 3.0 in {folder} (copied from {source}) is damaged or truncated: {what} could "
        f"not be read ({reason}); check or reinstall {source} ({REINSTALL}), then delete "
        f"{folder} so that it is copied again"
    )


@functools.cache
def wordnet():
    """nltk's WordNet reader (`nltk.corpus.reader.WordNetCorpusReader`) on the offline layout.

    Raises `HitlbenchError` (`unreadable`) where the copy's index files cannot be parsed; the
    reader raises it for a synset whose line in a data file is missing or cannot be parsed."""
    import nltk.data
    from nltk.corpus.reader import WordNetCorpusReader
    from nltk.corpus.reader.wordnet import WordNetError

    errors = (WordNetError, *READ_ERRORS)

    class WordNet30(WordNetCorpusReader):
        """WordNet 3.0 itself: nltk's map from 3.0 sense ids (used for the Open Multilingual
        WordNet, which this layout does not hold) has nothing to map, and would look for
        nltk's downloaded copy."""

        def map_wn(self, version="wordnet"):
            return None

        def synset_from_pos_and_offset(self, pos, offset):
            """The synset at byte `offset` of the data file of `pos`; HitlbenchError where no
            synset line begins there or it cannot be parsed (nltk: a warning and None)."""
            known = self._synset_offset_cache[pos].get(offset)
            if known is not None:
                return known
            what = f"synset {pos}{int(offset):08d} (data.{self._FILEMAP.get(pos, 'adj')})"
            try:
                with warnings.catch_warnings():  # "No WordNet synset found": raised below
                    warnings.simplefilter("ignore", UserWarning)
                    synset = super().synset_from_pos_and_offset(pos, offset)
            except errors as exc:
                raise unreadable(folder, source, what, exc) from exc
            if synset is None:
                raise unreadable(folder, source, what, "no synset line begins at that offset")
            return synset

    folder, source = layout_dir(), _source()
    if str(folder.parent) not in nltk.data.path:  # nltk reads only under its data paths
        nltk.data.path.append(str(folder.parent))
    try:
        with warnings.catch_warnings():  # "multilingual functions are not available": none asked
            warnings.simplefilter("ignore", UserWarning)
            return WordNet30(str(folder), None)
    except errors as exc:
        raise unreadable(folder, source, "the index files", exc) from exc
