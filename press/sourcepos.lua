-- Keep Pandoc's source positions on blocks only: the per-word wrapper spans that
-- +sourcepos adds would split raw inline HTML and bloat the output.
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
