"""Presentational parts of a page sent to the browser as one component holding their HTML.

Why: the browser's time on a page went mostly to Dash's renderer and React building one
wrapper per component (the scorecard is ~1 500 components: ~0,6 s of main thread on the 2-core
machine). Tables, panels and texts that no callback touches need none of that, so the page
layout keeps them as ordinary Dash components (tests, the PDF and the CSV read those) and
`staticize` turns each such subtree into a `StaticHtml` whose `html` is exactly the markup React
would have made: same tags, classes, ids and attributes, so CSS, axe, and keyboard order are
unchanged. Links (`dcc.Link`) become `<a data-sk-link>`, which assets/styrkort.js navigates
in-app like dcc.Link (history.pushState + Dash's location event).

A subtree stays a live component when any component in it has a callback-bound or
pattern-matching id, or a type this module cannot write exactly (dbc layout components,
graphs, grids, inputs...): those keep working as before, and only their static parts inside
are converted.

Every text and attribute value is escaped (html.escape): warehouse text (KPI titles from an
imported file) can never become markup."""
from __future__ import annotations

import functools
import html as _html
import re

import dash
from dash import dcc
from dash.development.base_component import Component

# props of dash.html components that are not HTML attributes
_SKIP = frozenset({"children", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state",
                   "key", "setProps", "refresh"})
# React prop name -> HTML attribute name (the rest are the same, lowercased)
_ATTR = {"className": "class", "htmlFor": "for", "tabIndex": "tabindex", "colSpan": "colspan",
         "rowSpan": "rowspan", "accessKey": "accesskey", "contentEditable": "contenteditable",
         "spellCheck": "spellcheck", "dateTime": "datetime", "crossOrigin": "crossorigin",
         "referrerPolicy": "referrerpolicy", "useMap": "usemap", "noValidate": "novalidate",
         "readOnly": "readonly", "maxLength": "maxlength", "minLength": "minlength",
         "autoComplete": "autocomplete", "autoFocus": "autofocus", "encType": "enctype"}
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
# unitless CSS properties (React appends "px" to the numbers of all others)
_UNITLESS = frozenset({"flex", "flexGrow", "flexShrink", "opacity", "zIndex", "fontWeight",
                       "lineHeight", "order", "zoom"})
_CAMEL = re.compile(r"(?<!^)([A-Z])")
MIN_COMPONENTS = 6   # a smaller subtree is not worth a component of its own


class StaticHtml(Component):
    """One element `tag` with React-style props `attrs` and the inner markup `html`
    (assets/styrkort.js: window.styrkort_static.StaticHtml). `children` (not sent to the
    browser) keeps the components it was made from, for code that reads the layout."""
    _children_props: list = []
    _base_nodes: list = []
    _namespace = "styrkort_static"
    _type = "StaticHtml"
    _prop_names = ["id", "tag", "attrs", "html"]
    _valid_wildcard_attributes: list = []
    available_properties = _prop_names
    available_wildcard_properties: list = []

    def __init__(self, tag: str, attrs: dict, html: str, id=None, source=None):
        # The props are set here, not passed to Component.__init__: for each keyword prop it
        # imports the component's package to word a possible error, and "styrkort_static" is no
        # package, so every prop cost a failed import searching sys.path (~4 ms a scorecard).
        super().__init__()
        self.tag, self.attrs, self.html = tag, attrs, html
        if id is not None:
            if not isinstance(id, (str, dict)):
                raise TypeError(f"`id` prop must be a string or dict, not {id!r}")
            self.id = id
        self.children = source

    # `source` may be a function that builds the components on first use: a long table's rows
    # are written straight to markup (building ~1 500 components only to write them was most of
    # the start page's server time), and only code that reads the layout builds them
    @property
    def children(self):
        src = self.__dict__.get("_source")
        if callable(src):
            src = self.__dict__["_source"] = src()
        return src

    @children.setter
    def children(self, value):
        self.__dict__["_source"] = value


class _Dynamic(Exception):
    """Raised inside to_html: this subtree must stay live components."""


def _style(style: dict) -> str:
    parts = []
    for k, v in style.items():
        if v is None or v is False:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in _UNITLESS and v != 0:
            v = f"{_num(v)}px"
        name = _CAMEL.sub(r"-\1", k).lower()
        parts.append(f"{name}:{_num(v) if isinstance(v, (int, float)) else v}")
    return ";".join(parts)


def _num(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _attr_text(name: str, v) -> str | None:
    """An attribute's value as React writes it; None = not written."""
    if v is None:
        return None
    if name.startswith(("data-", "aria-")):
        return str(v).lower() if isinstance(v, bool) else _num(v) if isinstance(v, (int, float)) else str(v)
    if isinstance(v, bool):
        return "" if v else None
    if isinstance(v, (int, float)):
        return _num(v)
    if isinstance(v, str):
        return v
    raise _Dynamic(f"attribute {name}={type(v).__name__}")


def _open(tag: str, props: dict, extra_class: str | None = None) -> str:
    out = [f"<{tag}"]
    if extra_class:
        props = dict(props, className=" ".join(c for c in (extra_class, props.get("className")) if c))
    for k, v in props.items():
        if k in _SKIP:
            continue
        if k == "style":
            if not v:
                continue
            text = _style(v)
        else:
            text = _attr_text(k, v)
        if text is None:
            continue
        name = _ATTR.get(k, k if k.startswith(("data-", "aria-")) else k.lower())
        out.append(f' {name}="{_html.escape(text, quote=True)}"')
    return "".join(out) + ">"


def _props(c: Component) -> dict:
    """The props Dash would send for c (as to_plotly_json, without its slow wildcard scan)."""
    names = _PROP_NAMES.get(type(c))
    if names is None:
        names = _PROP_NAMES[type(c)] = frozenset(c._prop_names)
    return {k: v for k, v in c.__dict__.items()
            if k in names or k.startswith(("data-", "aria-"))}


_PROP_NAMES: dict = {}


def _element(c: Component, bound: frozenset) -> tuple[str, dict, str | None]:
    """(tag, props, extra class) of a component this module can write, else _Dynamic."""
    cid = getattr(c, "id", None)
    if cid is not None and (not isinstance(cid, str) or cid in bound):
        raise _Dynamic(f"id {cid!r}")
    props = _props(c)
    if c._namespace == "dash_html_components":
        return c._type.lower(), props, None
    if isinstance(c, dcc.Link):
        href = props.get("href")
        if props.get("target") not in (None, "_self") or props.get("refresh") \
                or not (isinstance(href, str) and href.startswith("/") and not href.startswith("//")):
            raise _Dynamic("link that reloads or leaves the app")
        return "a", dict(props, **{"data-sk-link": "1"}), None
    if c._namespace == "dash_bootstrap_components" and c._type in ("Card", "CardBody") \
            and set(props) <= {"children", "className", "id"}:
        return "div", props, "card" if c._type == "Card" else "card-body"
    raise _Dynamic(f"{c._namespace}.{c._type}")


class _Part:
    """What one pass found about a subtree: its markup if it is entirely static (html), its
    number of components (n), its converted copy if not (tree), and for a static component
    the root element (tag, React props, inner markup) a StaticHtml needs."""
    __slots__ = ("html", "n", "tree", "root", "items")

    def __init__(self, html, n, tree=None, root=None, items=None):
        self.html, self.n, self.tree, self.root, self.items = html, n, tree, root, items


def _visit(c, bound: frozenset) -> _Part:
    """One post-order pass: every subtree is written at most once."""
    if c is None or c is False:
        return _Part("", 0)
    if isinstance(c, str):
        return _Part(_html.escape(c, quote=False), 0)
    if isinstance(c, (int, float)) and not isinstance(c, bool):
        return _Part(_num(c), 0)
    if isinstance(c, (list, tuple)):
        items = [_visit(x, bound) for x in c]
        n = sum(p.n for p in items)
        if all(p.html is not None for p in items):
            return _Part("".join(p.html for p in items), n, items=items)
        return _Part(None, n, items=items)
    if isinstance(c, StaticHtml):
        # already markup (a frozen table body, a search box): written inline into its parent
        props = dict(c.attrs or {}, **({"id": c.id} if getattr(c, "id", None) else {}))
        inner = "" if c.tag in _VOID else c.html
        close = "" if c.tag in _VOID else f"</{c.tag}>"
        return _Part(_open(c.tag, props) + inner + close, 1, root=(c.tag, c.attrs, c.html, getattr(c, "id", None)))
    if not isinstance(c, Component):
        return _Part(None, 1)
    try:
        tag, props, extra = _element(c, bound)
        head = _open(tag, props, extra)
    except _Dynamic:
        head = None
    kids = _visit(getattr(c, "children", None), bound)
    n = kids.n + 1
    if head is None or kids.html is None:
        return _Part(None, n, tree=c if kids.html is not None and not _has_big(kids) else None,
                     items=[kids])
    inner = "" if tag in _VOID else kids.html
    attrs = {k: v for k, v in props.items()
             if k not in _SKIP and k != "id" and v is not None and not (k == "style" and not v)}
    if extra:
        attrs["className"] = " ".join(x for x in (extra, props.get("className")) if x)
    close = "" if tag in _VOID else f"</{tag}>"
    return _Part(head + inner + close, n, root=(tag, attrs, inner, props.get("id")))


def _has_big(kids: _Part) -> bool:
    """Whether a static children list holds a component worth its own StaticHtml."""
    if kids.items is None:
        return kids.root is not None and kids.n >= MIN_COMPONENTS
    return any(p.root is not None and p.n >= MIN_COMPONENTS for p in kids.items)


def _rebuild(c, part: _Part, keep: bool = True):
    """c with each maximal static component of >= MIN_COMPONENTS as a StaticHtml (holding c as
    its source when keep)."""
    if part.html is not None and not isinstance(c, (list, tuple)):
        if part.root is not None and part.n >= MIN_COMPONENTS:
            tag, attrs, inner, cid = part.root
            return StaticHtml(tag, attrs, inner, id=cid, source=c if keep else None)
        return c
    if isinstance(c, (list, tuple)):
        return [_rebuild(x, p, keep) for x, p in zip(c, part.items)]
    if not isinstance(c, Component) or isinstance(c, StaticHtml) or part.tree is not None:
        return c
    kids = getattr(c, "children", None)
    if kids is None or isinstance(kids, (str, int, float)):
        return c
    copy = _shallow_copy(c)
    copy.children = _rebuild(kids, part.items[0], keep)
    return copy


def staticize(tree, bound: frozenset | None = None, keep_source: bool = True):
    """tree with every maximal static subtree (>= MIN_COMPONENTS components) as a StaticHtml.
    Returns a new tree; the components of `tree` are not changed. keep_source=False drops the
    components each StaticHtml was made from (what a cache of pages keeps: a tenth of the memory)."""
    if bound is None:
        bound = callback_ids()
    return _rebuild(tree, _visit(tree, bound), keep_source)


def freeze(c: Component) -> StaticHtml:
    """c as one StaticHtml whatever its size (ValueError if a part of it must stay live)."""
    part = _visit(c, frozenset())
    if part.root is None:
        raise ValueError(f"{type(c).__name__} cannot be static HTML")
    tag, attrs, inner, cid = part.root
    return StaticHtml(tag, attrs, inner, id=cid, source=c)


def _shallow_copy(c: Component) -> Component:
    new = c.__class__.__new__(c.__class__)
    new.__dict__.update(c.__dict__)
    return new


_BOUND: dict = {}


def callback_ids() -> frozenset:
    """Every string id some callback of the running app reads or writes (its components must
    stay live). Pattern-matching ids are dicts and always stay live."""
    try:
        app = dash.get_app()
        specs = list(app.callback_map.values()) + list(dash._callback.GLOBAL_CALLBACK_LIST)
    except Exception:
        specs = list(dash._callback.GLOBAL_CALLBACK_LIST)
    key = len(specs)
    if _BOUND.get("key") == key:
        return _BOUND["ids"]
    ids = set()
    for s in specs:
        out = s.get("output")
        out = out if isinstance(out, str) else str(out)
        for part in out.strip(".").split("..."):
            ids.add(part.rsplit(".", 1)[0].strip("."))
        for dep in list(s.get("inputs") or []) + list(s.get("state") or []):
            ids.add(dep.get("id") if isinstance(dep, dict) else str(dep))
    result = frozenset(i for i in ids if i and not i.startswith("{"))
    _BOUND.update(key=key, ids=result)
    return result


def static_layout(layout_fn):
    """A page's layout function whose answer has its static parts as StaticHtml (for the
    registry: the page modules' own `layout` stays plain components for tests and the PDF)."""
    @functools.wraps(layout_fn)
    def wrapper(*args, **kwargs):
        return staticize(layout_fn(*args, **kwargs))
    wrapper.plain = layout_fn
    return wrapper


def install(app) -> None:
    """Every registered page's layout through static_layout (a components.safe_layout page
    through its own cached static view)."""
    for page in dash.page_registry.values():
        layout = page.get("layout")
        if not callable(layout) or hasattr(layout, "plain"):
            continue
        view = getattr(layout, "static_view", None)
        if view is not None:
            view = functools.wraps(layout)(view)
            view.plain = layout
            page["layout"] = view
        else:
            page["layout"] = static_layout(layout)
