"""What a PDF page draws, and where: the text fragments and the horizontal rules of a page.

A small interpreter of the page's content stream (text state, text and graphics matrices,
q/Q, form XObjects), over pypdf's parser and font tables (encodings, ToUnicode maps, glyph
widths). It records, for each string shown, its text, its box on the page (x0–x1 on its
baseline, y upwards, the page's rotation applied), its font size and weight and its rise (a
superscript); and, for each line or rectangle edge drawn, its horizontal extent (the rules of
tables). Text at an angle or in a font whose glyphs cannot be read is counted, not recorded.

`knowledge.pdf_layout` turns these into a page's text in reading order.
"""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    StreamObject,
)
from pypdf.generic._font import Font  # pypdf's own font tables (encodings, widths)

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_MAX_FORM_DEPTH = 8


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m × n in PDF's row-vector convention: apply m, then n."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t,
            e * q + f * s + u)  # fmt: skip


def _point(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of text drawn on one baseline, in page coordinates (y upwards)."""

    text: str
    x0: float
    x1: float
    y: float  # baseline, rise included
    size: float
    bold: bool
    rise: float = 0.0


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal line or rectangle edge drawn on the page (table rules, stripes)."""

    x0: float
    x1: float
    y: float


@dataclass(frozen=True, slots=True)
class _FontInfo:
    font: Font
    bold: bool
    scale: float  # glyph space to text space (1/1000 but for Type 3 fonts)
    interpretable: bool


@dataclass(slots=True)
class _State:
    ctm: Matrix = _IDENTITY
    font: _FontInfo | None = None
    size: float = 0.0
    char_space: float = 0.0
    word_space: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0

    def copy(self) -> "_State":
        return _State(self.ctm, self.font, self.size, self.char_space, self.word_space,
                      self.scale, self.leading, self.rise)  # fmt: skip


@dataclass
class PageContent:
    """What the interpreter found on a page."""

    fragments: list[Fragment] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    skipped_chars: int = 0  # rotated text or text in fonts that cannot be read


class ContentReader:
    """Interprets page content streams; one instance per document (it caches the fonts)."""

    def __init__(self) -> None:
        self._fonts: dict[Any, _FontInfo] = {}

    def read(self, page: PageObject) -> PageContent:
        box = page.mediabox
        left, bottom = float(box.left), float(box.bottom)
        width, height = float(box.width), float(box.height)
        rotation = page.rotation % 360
        ctm: Matrix = (1.0, 0.0, 0.0, 1.0, -left, -bottom)
        if rotation == 90:
            ctm = _multiply(ctm, (0.0, -1.0, 1.0, 0.0, 0.0, width))
            width, height = height, width
        elif rotation == 180:
            ctm = _multiply(ctm, (-1.0, 0.0, 0.0, -1.0, width, height))
        elif rotation == 270:
            ctm = _multiply(ctm, (0.0, 1.0, -1.0, 0.0, height, 0.0))
            width, height = height, width
        content = PageContent(width=width, height=height)
        contents = page.get("/Contents")
        if contents is None:
            return content
        contents = contents.get_object()
        if not isinstance(contents, ArrayObject | StreamObject):
            return content
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else DictionaryObject()
        stream = ContentStream(contents, page.pdf, "bytes")
        self._run(stream.operations, resources, _State(ctm=ctm), content, page.pdf, set(), 0)
        return content

    # ------------------------------------------------------------ fonts

    def _font(self, resources: DictionaryObject, name: Any) -> _FontInfo | None:
        fonts = resources.get("/Font")
        if fonts is None:
            return None
        fonts = fonts.get_object()
        if not isinstance(fonts, DictionaryObject) or name not in fonts:
            return None
        reference = fonts.raw_get(name)
        key = (
            (reference.idnum, reference.generation)
            if isinstance(reference, IndirectObject)
            else id(reference)
        )
        info = self._fonts.get(key)
        if info is None:
            info = self._load_font(reference.get_object())
            self._fonts[key] = info
        return info

    @staticmethod
    def _load_font(resource: Any) -> _FontInfo:
        if not isinstance(resource, DictionaryObject):
            resource = DictionaryObject()
        font = Font.from_font_resource(resource)
        name = font.name
        descriptor = resource.get("/FontDescriptor")
        weight = 0.0
        if descriptor is not None:
            descriptor = descriptor.get_object()
            if isinstance(descriptor, DictionaryObject):
                raw = descriptor.get("/FontWeight", 0)
                weight = float(raw) if isinstance(raw, int | float) else 0.0
        scale = 0.001
        matrix = resource.get("/FontMatrix")
        if resource.get("/Subtype") == "/Type3" and isinstance(matrix, ArrayObject) and matrix:
            scale = abs(float(matrix[0])) or 0.001
        return _FontInfo(
            font=font,
            bold=bool(_BOLD_FONT.search(name)) or weight >= 600,
            scale=scale,
            interpretable=font.interpretable,
        )

    # ------------------------------------------------------------ the interpreter

    def _run(
        self,
        operations: Iterable[tuple[Any, bytes]],
        resources: DictionaryObject,
        state: _State,
        content: PageContent,
        pdf: Any,
        forms: set[int],
        depth: int,
    ) -> None:
        """Follows the operators that place text and rules; the others (colours, images,
        clipping, curves) change nothing this reader needs."""
        stack: list[_State] = []
        text_matrix = line_matrix = _IDENTITY
        path: list[tuple[float, float, float, float]] = []  # segments in page space
        start = current = (0.0, 0.0)
        for operands, operator in operations:
            op = operator
            if op == b"Tj" or op == b"'" or op == b'"':
                if op != b"Tj":
                    if op == b'"' and len(operands) >= 3:
                        state.word_space = _number(operands[0], state.word_space)
                        state.char_space = _number(operands[1], state.char_space)
                    line_matrix = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -state.leading), line_matrix)
                    text_matrix = line_matrix
                if operands and isinstance(operands[-1], bytes):
                    text_matrix = self._show([operands[-1]], state, text_matrix, content)
            elif op == b"TJ":
                if operands and isinstance(operands[0], ArrayObject):
                    text_matrix = self._show_array(operands[0], state, text_matrix, content)
            elif op == b"Td" or op == b"TD":
                if len(operands) >= 2:
                    tx, ty = _number(operands[0], 0.0), _number(operands[1], 0.0)
                    if op == b"TD":
                        state.leading = -ty
                    line_matrix = _multiply((1.0, 0.0, 0.0, 1.0, tx, ty), line_matrix)
                    text_matrix = line_matrix
            elif op == b"Tm":
                if len(operands) >= 6:
                    values = [_number(value, 0.0) for value in operands[-6:]]
                    line_matrix = text_matrix = (values[0], values[1], values[2], values[3],
                                                 values[4], values[5])  # fmt: skip
            elif op == b"T*":
                line_matrix = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -state.leading), line_matrix)
                text_matrix = line_matrix
            elif op == b"Tf":
                if len(operands) >= 2:
                    state.font = self._font(resources, operands[0])
                    state.size = _number(operands[1], state.size)
            elif op == b"BT":
                text_matrix = line_matrix = _IDENTITY
            elif op == b"Tc":
                state.char_space = _number(operands[0] if operands else 0, state.char_space)
            elif op == b"Tw":
                state.word_space = _number(operands[0] if operands else 0, state.word_space)
            elif op == b"Tz":
                state.scale = _number(operands[0] if operands else 100, 100.0) / 100.0
            elif op == b"TL":
                state.leading = _number(operands[0] if operands else 0, state.leading)
            elif op == b"Ts":
                state.rise = _number(operands[0] if operands else 0, state.rise)
            elif op == b"q":
                stack.append(state.copy())
            elif op == b"Q":
                if stack:
                    state = stack.pop()
            elif op == b"cm":
                if len(operands) >= 6:
                    values = [_number(value, 0.0) for value in operands[-6:]]
                    matrix = (values[0], values[1], values[2], values[3], values[4], values[5])
                    state.ctm = _multiply(matrix, state.ctm)
            elif op == b"re":
                if len(operands) >= 4:
                    x, y, w, h = (_number(value, 0.0) for value in operands[:4])
                    corners = [
                        _point(state.ctm, x, y),
                        _point(state.ctm, x + w, y),
                        _point(state.ctm, x + w, y + h),
                        _point(state.ctm, x, y + h),
                    ]
                    for i in range(4):
                        (ax, ay), (bx, by) = corners[i], corners[(i + 1) % 4]
                        path.append((ax, ay, bx, by))
            elif op == b"m":
                if len(operands) >= 2:
                    start = current = _point(
                        state.ctm, _number(operands[0], 0.0), _number(operands[1], 0.0)
                    )
            elif op == b"l":
                if len(operands) >= 2:
                    point = _point(state.ctm, _number(operands[0], 0.0), _number(operands[1], 0.0))
                    path.append((current[0], current[1], point[0], point[1]))
                    current = point
            elif op == b"h":
                path.append((current[0], current[1], start[0], start[1]))
                current = start
            elif op in _PAINT:
                if op != b"n":
                    _add_rules(path, content)
                path = []
            elif op == b"Do" and operands and depth < _MAX_FORM_DEPTH:
                self._form(operands[0], resources, state, content, pdf, forms, depth)

    def _form(
        self,
        name: Any,
        resources: DictionaryObject,
        state: _State,
        content: PageContent,
        pdf: Any,
        forms: set[int],
        depth: int,
    ) -> None:
        xobjects = resources.get("/XObject")
        if xobjects is None:
            return
        xobjects = xobjects.get_object()
        if not isinstance(xobjects, DictionaryObject) or name not in xobjects:
            return
        form = xobjects[name].get_object()
        if not isinstance(form, StreamObject) or form.get("/Subtype") != "/Form":
            return
        if id(form) in forms:
            return  # a form that draws itself
        inner = state.copy()
        matrix = form.get("/Matrix")
        if isinstance(matrix, ArrayObject) and len(matrix) == 6:
            values = [_number(value, 0.0) for value in matrix]
            form_matrix = (values[0], values[1], values[2], values[3], values[4], values[5])
            inner.ctm = _multiply(form_matrix, inner.ctm)
        form_resources = form.get("/Resources")
        form_resources = form_resources.get_object() if form_resources is not None else resources
        if not isinstance(form_resources, DictionaryObject):
            form_resources = resources
        stream = ContentStream(form, pdf, "bytes")
        self._run(
            stream.operations, form_resources, inner, content, pdf, forms | {id(form)}, depth + 1
        )

    def _show_array(
        self, items: ArrayObject, state: _State, text_matrix: Matrix, content: PageContent
    ) -> Matrix:
        """TJ: strings and pen moves (thousandths of an em, leftwards). A move of a word space
        or more, or a jump back, ends a fragment; kerning stays inside it."""
        pieces: list[bytes | float] = []
        for item in items:
            if isinstance(item, bytes):
                pieces.append(item)
                continue
            if not isinstance(item, int | float):
                continue
            move = -float(item) / 1000.0  # in ems, positive to the right
            if move >= 0.15 or move <= -0.8:
                text_matrix = self._show(pieces, state, text_matrix, content)
                pieces = []
                shift = move * state.size * state.scale
                text_matrix = _multiply((1.0, 0.0, 0.0, 1.0, shift, 0.0), text_matrix)
            else:
                pieces.append(move)
        return self._show(pieces, state, text_matrix, content)

    def _show(
        self,
        pieces: Sequence[bytes | float],
        state: _State,
        text_matrix: Matrix,
        content: PageContent,
    ) -> Matrix:
        """Draws strings (and small pen moves, in ems) as one fragment; returns the text matrix
        moved past them."""
        info = state.font
        if info is None:
            return text_matrix
        font = info.font
        mapping = font.character_map
        widths = font.character_widths
        default = widths.get("default", 500)
        size, h_scale = state.size, state.scale
        x = 0.0
        first = last = -1.0
        text: list[str] = []
        for piece in pieces:
            if isinstance(piece, float):
                x += piece * size * h_scale
                continue
            for raw_char, char, single in _characters(piece, font.encoding):
                glyph = mapping.get(char, char)
                width = (
                    font.space_width
                    if raw_char == font.space_char
                    else widths.get(raw_char, default)
                )
                advance = width * info.scale * size + state.char_space
                if raw_char == " " and single:
                    advance += state.word_space
                advance *= h_scale
                if glyph.strip():
                    if first < 0:
                        first = x
                    last = x + width * info.scale * size * h_scale
                text.append(glyph)
                x += advance
        matrix = _multiply(text_matrix, state.ctm)
        advanced = _multiply((1.0, 0.0, 0.0, 1.0, x, 0.0), text_matrix)
        string = "".join(text).strip()
        if first < 0 or not string:
            return advanced
        a, b, c, d = matrix[:4]
        if not info.interpretable or abs(b) > 0.05 * abs(a) or abs(c) > 0.05 * abs(d) or a <= 0:
            content.skipped_chars += len(string)
            return advanced
        x0, y0 = _point(matrix, first, state.rise)
        x1, _ = _point(matrix, last, state.rise)
        vertical = math.hypot(c, d)
        content.fragments.append(
            Fragment(
                text=string,
                x0=x0,
                x1=max(x1, x0),
                y=y0,
                size=size * vertical,
                bold=info.bold,
                rise=state.rise * vertical,
            )
        )
        return advanced


def _characters(data: bytes, encoding: str | dict[int, str]) -> list[tuple[str, str, bool]]:
    """(raw character, encoded character, one-byte code) for each character code of a string:
    a simple font's codes are bytes, a composite font's decode with its codec (2-byte codes for
    Identity-H). Word spacing applies to one-byte spaces only."""
    if isinstance(encoding, dict):
        return [(chr(byte), encoding.get(byte, chr(byte)), True) for byte in data]
    try:
        decoded = data.decode(encoding, "surrogatepass")
    except UnicodeDecodeError:  # odd byte count or unmapped codes
        decoded = data.decode(encoding, "replace")
    except LookupError:  # a codec Python does not know
        decoded = data.decode("latin-1")
    single = len(decoded) == len(data)
    return [(char, char, single) for char in decoded]


_PAINT = {b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"n"}


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _add_rules(path: list[tuple[float, float, float, float]], content: PageContent) -> None:
    for ax, ay, bx, by in path:
        if abs(ay - by) <= 1.0 and abs(ax - bx) > 1.0:
            content.rules.append(Rule(min(ax, bx), max(ax, bx), (ay + by) / 2))
