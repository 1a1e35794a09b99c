-- Drop the per-word wrapper spans that +sourcepos adds: they would split raw inline
-- HTML and bloat the output. Block positions stay (the writer may also copy a block's
-- position onto its first inline element; enrich treats every position alike).
function Span(el)
  if el.attributes["wrapper"] then
    return el.content
  end
  el.attributes["data-pos"] = nil
  return el
end

local function drop_pos(el)
  el.attributes["data-pos"] = nil
  return el
end

Link = drop_pos
Image = drop_pos
Code = drop_pos

-- Lint comments (<!-- lint: ignore P003 -->) talk to `invoke lint` only: keep them out
-- of both outputs, where any other raw HTML comment would survive.
local function is_lint_comment(el)
  return el.format == "html" and el.text:match("^%s*<!%-%-%s*lint:") ~= nil
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

-- +sourcepos wraps a block in a Div; once its lint comment is gone, drop the empty Div.
function Div(el)
  if el.attributes["wrapper"] and #el.content == 0 then
    return {}
  end
end
