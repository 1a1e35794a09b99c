-- Drop the per-word wrapper spans that +sourcepos adds: they would split raw inline
-- HTML and bloat the output. Block positions stay (the writer may also copy a block's
-- position onto its first inline element; enrich treats every position alike).
--
-- Raw HTML, links and images cannot carry a data-pos attribute of their own, so a
-- comment <!--pos L:C-L:C--> goes just before each of them, and <!--/pos--> after each
-- raw HTML piece: press.safety reads them to check every raw piece on its own and to
-- name its Markdown line; enrich gives that line to the element that follows, then
-- drops the comments.

local function marker(pos)
  return "<!--pos " .. pos .. "-->"
end

local function is_html(el)
  return el.format == "html" or el.format == "html5"
end

function Span(el)
  if el.attributes["wrapper"] then
    local only = el.content[1]
    local pos = el.attributes["data-pos"]
    if #el.content == 1 and only.t == "RawInline" and is_html(only) and pos and pos ~= "" then
      return {pandoc.RawInline("html", marker(pos)), only, pandoc.RawInline("html", "<!--/pos-->")}
    end
    return el.content
  end
  el.attributes["data-pos"] = nil
  return el
end

function Div(el)
  local only = el.content[1]
  local pos = el.attributes["data-pos"]
  if el.attributes["wrapper"] and #el.content == 1 and only.t == "RawBlock"
      and is_html(only) and pos and pos ~= "" then
    return {pandoc.RawBlock("html", marker(pos)), only, pandoc.RawBlock("html", "<!--/pos-->")}
  end
  if el.attributes["wrapper"] and #el.content == 0 then
    return {}  -- it held only a lint comment, gone below
  end
  return nil
end

local function marked(el)
  local pos = el.attributes["data-pos"]
  el.attributes["data-pos"] = nil
  if pos and pos ~= "" then
    return {pandoc.RawInline("html", marker(pos)), el}
  end
  return el
end

Link = marked
Image = marked

function Code(el)
  el.attributes["data-pos"] = nil
  return el
end

-- Lint comments (<!-- lint: ignore P003 -->) talk to `invoke lint` only: keep them out
-- of both outputs, where any other raw HTML comment would survive. Pandoc applies
-- these before Span and Div, which then see the comment gone.
local function is_lint_comment(el)
  return is_html(el) and el.text:match("^%s*<!%-%-%s*lint:") ~= nil
end

function RawInline(el)
  if is_lint_comment(el) then
    return {}
  end
end

function RawBlock(el)
  if is_lint_comment(el) then
    return {}
  end
end
