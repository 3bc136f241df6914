"""Sphinx configuration of the lipmat documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

``-n`` (nitpicky) makes every unresolved cross-reference a warning and ``-W`` makes every warning an
error, so a broken reference, a page missing from the toctree or a public object without a docstring
fails the build. There is no intersphinx (the build runs without internet): references into torch,
numpy, scipy and the standard library are listed below as known-external, and so are private names (a
leading underscore, which the reference leaves out); nothing else is ignored.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys

from sphinx.ext import napoleon as _napoleon

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from lipmat._version import __version__  # noqa: E402

project = "lipmat"
author = "the lipmat authors"
copyright = "lipmat authors, MIT licence"
release = __version__
version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"

exclude_patterns = ["_build", "README.md"]

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"lipmat {release}"
html_static_path: list[str] = []

# -- autodoc ---------------------------------------------------------------------------------------
autodoc_default_options = {
    "members": True,
    "undoc-members": True,          # an undocumented public object is listed, and warned about below
    "show-inheritance": True,
    "member-order": "bysource",
    "ignore-module-all": True,      # every public name a module defines, also those left out of __all__
    # members a class takes from the project's own mixins (``stress`` from StressAlias), not those of
    # torch's Module or of the builtins
    "inherited-members": "Module,object,Exception,BaseException,tuple,dict,list,str,float,int,Enum,"
                         "IntEnum,Generic,Protocol,ABC,Warning,UserWarning,ValueError,RuntimeError,"
                         "ArithmeticError,KeyError,TypeError,NamedTuple",
}
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = True
autodoc_mock_imports: list[str] = []
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = True
# The docstrings' "name : text" and "Returns: T: text" slots hold shapes, units and prose, not Python
# types: show them as written (emphasis), never as cross-references to classes that do not exist.
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_use_ivar = True          # attributes as fields of their class, not a second description
default_role = "literal"            # `x` in a docstring is code, as on GitHub

nitpicky = True

# References that point outside this project. Without intersphinx they cannot resolve; they are the
# libraries' own types (torch, numpy, scipy, meshio, the standard library), never names of lipmat or fem.
_EXTERNAL = (
    r"torch(\..*)?|dask(\..*)?|distributed(\..*)?|tomllib|tomli|numpy(\..*)?|np\..*|scipy(\..*)?|meshio(\..*)?|h5py(\..*)?|matplotlib(\..*)?"
    r"|tqdm(\..*)?|threadpoolctl(\..*)?|ast|argparse\..*|pathlib\..*|os\..*|io\..*|typing\..*|enum\..*"
    r"|collections(\..*)?|dataclasses\..*|abc\..*|logging\..*|json\..*|contextlib\..*|types\..*"
    r"|Tensor|ndarray|Path|PathLike|Module|Parameter|Generator|Iterator|Iterable|Callable|Sequence"
    r"|Mapping|MutableMapping|Any|Optional|Union|Literal|TextIO|IO|Protocol|NamedTuple|ArgumentParser"
    r"|Namespace|Enum|IntEnum|ABC|dtype|device|LinearOperator|csr_matrix|spmatrix|sparray|csr_array"
    r"|Figure|Axes|TypeVar|ParamSpec|Self|SupportsFloat|TextIOWrapper|BufferedWriter"
    r"|NoneType|builtins\..*|_io\..*|_thread\..*|re\..*|numbers\..*|functools\..*|concurrent\..*"
)
nitpick_ignore_regex = [
    # Private helpers (a leading underscore) appear in signatures but are not part of the reference.
    (r"py:(class|obj|data|func|meth)", r"(.*\.)?_[A-Za-z]\w*(\..*)?"),
    (r"py:(class|obj|exc|func|meth|data|attr|mod)", _EXTERNAL),
    # Built-in exceptions and types that Python's own inventory would resolve.
    (r"py:(class|exc|obj)", r"(ValueError|TypeError|RuntimeError|KeyError|OSError|Exception|"
                            r"FileNotFoundError|NotImplementedError|ArithmeticError|LookupError|"
                            r"IndexError|int|float|str|bool|bytes|dict|list|tuple|set|frozenset|"
                            r"object|type|complex|slice|range|None|Ellipsis|BaseException|"
                            r"KeyboardInterrupt|SystemExit|IsADirectoryError|PermissionError|"
                            r"ZeroDivisionError|OverflowError|FloatingPointError|MemoryError|"
                            r"UnicodeDecodeError|StopIteration|Warning|UserWarning)"),
]


# -- references written relative to a module, or to a re-exported name ----------------------------
def _canonical(target: str, modname: str | None) -> str | None:
    """The documented (defining-module) name of ``target`` as seen from ``modname``, or None.

    The docstrings name objects the way their readers meet them: ``fem.Mesh`` (the re-export),
    ``Limits`` inside ``fem.core``'s docstring. The object is looked up by importing it, so the
    reference goes to the one place it is documented. (Module data carry no ``__module__``; those are
    matched by name in :func:`_missing_reference`, only when one documented object has that name.)
    """
    target = target.lstrip("~.")
    candidates = []
    if modname:
        parts = modname.split(".")
        for i in range(len(parts), 0, -1):
            candidates.append(".".join(parts[:i]) + "." + target)
    candidates.append(target)
    for cand in candidates:
        obj = _resolve(cand)
        if obj is None:
            continue
        if inspect.ismodule(obj):
            return obj.__name__
        mod = getattr(obj, "__module__", None)
        qual = getattr(obj, "__qualname__", None)
        if mod and qual and (mod.startswith("fem") or mod.startswith("lipmat")):
            return f"{mod}.{qual}"
        # a method or attribute of a class: resolve the owner, then append the last part
        owner, _, last = cand.rpartition(".")
        owner_obj = _resolve(owner)
        if inspect.isclass(owner_obj) and owner_obj.__module__.startswith(("fem", "lipmat")):
            return f"{owner_obj.__module__}.{owner_obj.__qualname__}.{last}"
    return None


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # noqa: BLE001 - not a module at this depth
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target:
        return None
    domain = env.get_domain("py")
    modname, clsname = node.get("py:module"), node.get("py:class")
    names = []
    if clsname:  # a method named inside its class's docstring: ``:meth:`stress```
        names.append(_canonical(f"{clsname}.{target.lstrip('~.')}", modname))
    names.append(_canonical(target, modname))
    # data (tuples, dicts) carry no __module__: the one documented object of that name, if unique
    last = target.lstrip("~.").rsplit(".", 1)[-1]
    matches = [full for full in domain.objects if full.rsplit(".", 1)[-1] == last
               and (full.startswith(target.lstrip("~.").rsplit(".", 1)[0] + ".") or "." not in target.lstrip("~.")
                    or full.endswith("." + target.lstrip("~.")))]
    local = [full for full in matches if modname and full.startswith(modname + ".")]
    if len(local) == 1:      # a method named in its module's docstring: ``:meth:`forward```
        names.append(local[0])
    elif len(matches) == 1:
        names.append(matches[0])
    for canonical in names:
        if canonical is None or canonical == target:
            continue
        for role in (node.get("reftype"), "obj"):
            new = domain.resolve_xref(env, node.get("refdoc"), app.builder, role, canonical, node, contnode)
            if new is not None:
                return new
    return None


# -- a public object without a docstring is a warning (so -W fails) --------------------------------
_DOCUMENTED_KINDS = {"module", "class", "exception", "function", "method", "property"}


def _warn_empty_docstring(app, what, name, obj, options, lines):
    from sphinx.util import logging

    if what not in _DOCUMENTED_KINDS or any(line.strip() for line in lines):
        return
    last = name.rsplit(".", 1)[-1]
    if last.startswith("_"):
        return
    logging.getLogger("lipmat.docs").warning(
        "%s %s has no docstring; document it (every public object of the API reference needs one)",
        what, name, type="lipmat", subtype="docstring")



# -- the house docstring conventions, read as reST -------------------------------------------------
# Two conventions of the docstrings are plain text rather than reST, and are translated here (before
# napoleon) instead of being rewritten in every file:
#   * field blocks: paragraphs whose every line is "name : text" / "name: text" / "``name``   text", with
#     hanging-indent continuation lines; in reST a hanging indent is an error, so they become
#     definition lists (name, then the text indented);
#   * absolute values and norms written |x|: reST reads them as substitutions; the bars are escaped
#     (outside ``literals`` and literal blocks).
_FIELD = re.compile(r"^(``[^`]+``(?=\s)|[A-Za-z_*][\w.*, ()\[\]=\-]{0,60}?(?=\s?:\s|\s{2}))(?:\s?:\s+|\s+)(\S.*)$")
_LITERAL_ONLY = re.compile(r"^``[^`]+``\s*$")
_UNDERLINE = re.compile(r"^([-=~^])\1{2,}\s*$")
_NAPOLEON_SECTIONS = {"args", "arguments", "attributes", "example", "examples", "keyword args",
                      "keyword arguments", "methods", "note", "notes", "other parameters", "parameters",
                      "return", "returns", "raise", "raises", "references", "see also", "todo", "warning",
                      "warnings", "warns", "yield", "yields", "receives"}


def _field_paragraph(par: list[str]) -> list[str] | None:
    """A paragraph of fields as a definition list, or None when it is not one."""
    fields: list[tuple[str, list[str]]] = []
    for line in par:
        if line[:1].isspace():
            if not fields:
                return None
            fields[-1][1].append(line.strip())
            continue
        m = _FIELD.match(line)
        if m:
            fields.append((m.group(1).strip(), [m.group(2).strip()]))
        elif _LITERAL_ONLY.match(line):
            fields.append((line.strip(), []))
        else:
            return None
    has_continuation = any(len(text) > 1 or not text for _, text in fields)
    if len(fields) < 2 and not has_continuation:
        return None
    if not has_continuation:
        return None  # consecutive one-line fields read fine as they are
    out = []
    for name, text in fields:
        out.append(name)
        out.extend("    " + t for t in text if t)
    return out


def _escape_bars(line: str) -> str:
    parts = re.split(r"(``.*?``|`[^`]*`)", line)
    return "".join(p if i % 2 else re.sub(r"(?<!\\)\|", r"\\|", p) for i, p in enumerate(parts))


def _house_conventions(app, what, name, obj, options, lines):
    out: list[str] = []
    i = 0
    literal_indent = None
    paragraph: list[str] = []

    def flush():
        if not paragraph:
            return
        body = paragraph
        head: list[str] = []
        if len(body) >= 2 and _UNDERLINE.match(body[1]) and not body[0][:1].isspace():
            if body[0].strip().lower() in _NAPOLEON_SECTIONS:
                out.extend(body)
                paragraph.clear()
                return
            head, body = body[:2], body[2:]
        converted = _field_paragraph(body) if body and not body[0][:1].isspace() else None
        if converted is not None and head:
            converted = [""] + converted
        out.extend(head + (converted if converted is not None else body))
        paragraph.clear()

    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if line.strip() and indent <= literal_indent:
                literal_indent = None
            else:
                out.append(line)
                i += 1
                continue
        if not line.strip():
            flush()
            out.append(line)
        else:
            text = _escape_bars(line)
            paragraph.append(text)
            if line.rstrip().endswith("::"):
                flush()
                literal_indent = indent
        i += 1
    flush()
    lines[:] = out


# -- what the reference lists ---------------------------------------------------------------------
def _skip_member(app, what, name, obj, skip, options):
    """Leave out the undocumented methods and properties of a class (protocol plumbing such as an
    observer's ``on_step``); a module-level public object is always listed, and warned about above
    when it has no docstring."""
    if skip or what not in ("class", "exception"):
        return None
    target = obj.fget if isinstance(obj, property) else obj
    if callable(target) or isinstance(obj, property):
        doc = inspect.getdoc(target) if not isinstance(target, type) else inspect.getdoc(target)
        if not doc or not doc.strip():
            return True
    return None


# -- numpy-style "name : text" fields ---------------------------------------------------------------
_TYPE_FIELD = re.compile(r"^(\s*):(type|vartype) ([^:]+):\s?(.*)$")
_DESC_FIELD = re.compile(r"^(\s*):(param|ivar) ([^:]+):\s?(.*)$")


def _fold_type_fields(app, what, name, obj, options, lines):
    """Fold napoleon's ``:type x: T`` / ``:vartype x: T`` into the field's text.

    The docstrings write ``points : (n_points, dim) float64, ...`` and ``dt : s, or "certified"``: the
    slot after the colon holds shapes, units and prose, not a Python type. Parsed as a type, every word
    would become a cross-reference to a class that does not exist; shown as the field's text it reads
    as written. Runs after napoleon (priority 600).
    """
    # "points, weights : ..." names two fields at once; in ":ivar points, weights:" Sphinx would read
    # "points," as a type, so the names are joined without the space
    lines[:] = [re.sub(r"^(\s*:(?:ivar|vartype|param|type) )([^:]+)(:)",
                       lambda m: m.group(1) + m.group(2).replace(", ", ",") + m.group(3), line)
                for line in lines]
    types: dict[tuple[str, str], str] = {}
    kept = []
    for line in lines:
        m = _TYPE_FIELD.match(line)
        if m:
            kind = "param" if m.group(2) == "type" else "ivar"
            types[(kind, m.group(3).strip())] = m.group(4).strip()
            continue
        kept.append(line)
    if not types:
        return
    out = []
    for line in kept:
        m = _DESC_FIELD.match(line)
        if m and (m.group(2), m.group(3).strip()) in types:
            t = types[(m.group(2), m.group(3).strip())]
            text = m.group(4).strip()
            line = f"{m.group(1)}:{m.group(2)} {m.group(3)}: {t}" + (f" — {text}" if text else "")
        out.append(line)
    lines[:] = out


def _napoleon_unless_data(app, what, name, obj, options, lines):
    """napoleon, except on module data, attributes and properties: their docstrings are prose ("Adam
    epochs and L-BFGS iterations of the fit: full ..."), which napoleon would split into a "type" and a
    text at the first colon."""
    if what in ("data", "attribute", "property"):
        return
    _napoleon._process_docstring(app, what, name, obj, options, lines)


def setup(app):
    for listener in list(app.events.listeners.get("autodoc-process-docstring", [])):
        if listener.handler is _napoleon._process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _house_conventions, priority=400)
    app.connect("autodoc-process-docstring", _napoleon_unless_data, priority=500)
    app.connect("missing-reference", _missing_reference)
    app.connect("autodoc-process-docstring", _fold_type_fields, priority=600)
    app.connect("autodoc-process-docstring", _warn_empty_docstring, priority=700)
    app.connect("autodoc-skip-member", _skip_member)
