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
