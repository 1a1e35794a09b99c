"""Stage 2b, screen: what raw HTML, SVG and inline CSS a book may hold (data only).

Allow-lists, not block-lists: an element, attribute, CSS property or CSS function that
is not named here is refused, so markup nobody thought of is refused too. The lists
hold what Pandoc itself writes, what a book's text uses, and passive drawing (SVG) and
formulas (MathML); nothing that runs, loads or submits anything.
"""
from __future__ import annotations

HTML_ELEMENTS = frozenset("""
a abbr address article aside b bdi bdo blockquote br caption cite code col colgroup data
dd del details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hgroup
hr i img ins kbd li main mark nav ol p pre q rp rt ruby s samp section small span strong
sub summary sup table tbody td tfoot th thead time tr u ul var wbr map area
""".split())
SVG_ELEMENTS = frozenset("""
svg g path rect circle ellipse line polyline polygon text tspan textpath title desc defs
symbol use lineargradient radialgradient stop clippath mask pattern marker a metadata
switch filter fegaussianblur feoffset feblend fecolormatrix fecomposite feflood femerge
femergenode femorphology fedropshadow image feimage
""".split())
MATHML_ELEMENTS = frozenset("""
math mi mn mo ms mtext mspace mrow mfrac msqrt mroot mstyle merror mpadded mphantom msub
msup msubsup munder mover munderover mtable mtr mtd mlabeledtr semantics annotation
menclose mmultiscripts mprescripts none
""".split())
# SVG animations can change an attribute (a link's target, a handler) after any check.
ANIMATIONS = frozenset({"animate", "set", "animatemotion", "animatetransform", "animatecolor",
                        "discard"})

GLOBAL_ATTRIBUTES = frozenset("""
id class title lang dir style role hidden translate tabindex xml:lang
""".split())
HTML_ATTRIBUTES = {
    "a": {"href", "hreflang", "rel", "type", "target"},
    "area": {"href", "alt", "shape", "coords", "rel", "target", "hreflang"},
    "map": {"name"},
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
    "td": {"colspan", "rowspan", "headers", "align", "valign"},
    "th": {"colspan", "rowspan", "headers", "scope", "abbr", "align", "valign"},
    "col": {"span", "width", "align"}, "colgroup": {"span", "width"},
    "ol": {"start", "type", "reversed"}, "ul": {"type"}, "li": {"value"},
    "time": {"datetime"}, "data": {"value"}, "details": {"open"},
    "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"}, "table": {"width"}, "tr": {"align", "valign"},
}
SVG_ATTRIBUTES = frozenset("""
viewbox width height x y x1 y1 x2 y2 cx cy r rx ry d points transform fill fill-opacity
fill-rule stroke stroke-width stroke-linecap stroke-linejoin stroke-dasharray
stroke-dashoffset stroke-opacity stroke-miterlimit opacity font-family font-size
font-weight font-style font-variant text-anchor dominant-baseline alignment-baseline
baseline-shift dx dy rotate textlength lengthadjust preserveaspectratio xmlns
xmlns:xlink version gradientunits gradienttransform offset stop-color stop-opacity fx fy
fr spreadmethod clip-path clippathunits clip-rule mask maskunits maskcontentunits
patternunits patterncontentunits patterntransform markerwidth markerheight markerunits
refx refy orient marker-start marker-mid marker-end href xlink:href xlink:title
focusable visibility display color letter-spacing word-spacing text-decoration
vector-effect shape-rendering text-rendering image-rendering paint-order xml:space
filter filterunits primitiveunits in in2 result stddeviation mode operator k1 k2 k3 k4
values type flood-color flood-opacity radius startoffset method spacing side
baseprofile requiredfeatures systemlanguage aria-label aria-hidden
""".split())
MATHML_ATTRIBUTES = frozenset("""
display mathvariant mathsize mathcolor mathbackground displaystyle scriptlevel fence
separator stretchy symmetric largeop movablelimits accent accentunder lspace rspace
minsize maxsize form linethickness bevelled numalign denomalign columnalign rowalign
columnspan rowspan columnlines rowlines frame notation encoding width height depth xmlns
alttext voffset
""".split())
# Attributes whose value is a place to go (checked for its scheme), and those that load.
LINKING = frozenset({"href", "xlink:href", "cite"})
FETCHING = frozenset({"srcset", "background", "poster", "lowsrc", "dynsrc", "ping", "data",
                      "action", "formaction", "longdesc", "codebase", "manifest", "icon"})
LINK_SCHEMES = ("http:", "https:", "mailto:")

# What a style="..." attribute may set: type, colour, spacing, boxes and drawing paint.
CSS_PROPERTIES = frozenset("""
color background-color font-style font-weight font-variant font-variant-caps
font-variant-numeric font-size font-family font-stretch text-align text-align-last
text-decoration text-decoration-line text-decoration-style text-decoration-color
text-transform text-indent vertical-align width height min-width max-width min-height
max-height margin margin-top margin-right margin-bottom margin-left padding padding-top
padding-right padding-bottom padding-left border border-top border-right border-bottom
border-left border-width border-style border-color border-collapse border-spacing
border-radius white-space letter-spacing word-spacing line-height list-style-type
list-style-position float clear display hyphens direction unicode-bidi writing-mode
font-feature-settings font-kerning text-emphasis opacity fill stroke stroke-width
fill-opacity stroke-opacity break-before break-after break-inside page-break-before
page-break-after page-break-inside orphans widows caption-side table-layout counter-reset
counter-increment list-style quotes text-wrap overflow-wrap word-break font-synthesis
""".split())
CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc", "min", "max", "clamp"})
# CSS functions that load a file (refused as a fetch, S004, not just as unknown).
CSS_FETCHING = frozenset({"url", "src", "image", "image-set", "-webkit-image-set",
                          "cross-fade", "element"})

MAX_DEPTH = 64  # elements inside elements; a book needs far fewer, parsers break far later
