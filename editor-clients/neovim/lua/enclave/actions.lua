--- What the keys do: accept (all, a word, a line), next / previous, dismiss. Each returns true
--- when it did something, false when there was nothing to do (so a key can fall back). On
--- Neovim with vim.lsp.inline_completion (0.12+) they use it; else the plugin's ghost text.
local M = {}

local api = vim.api

--- name = { native call, ghost call, whether it may ask the server (off when switched off) }
local table_of = {
  visible = { function(n) return n.visible(0) end, function(g) return g.visible(0) end },
  accept = { function(n) return n.accept(0, 'all') end, function(g) return g.accept(0) end },
  accept_word = { function(n) return n.accept(0, 'word') end, function(g) return g.accept_word(0) end },
  accept_line = { function(n) return n.accept(0, 'line') end, function(g) return g.accept_line(0) end },
  next = { function(n) return n.cycle(0, 1) end, function(g) return g.next(0) end, true },
  prev = { function(n) return n.cycle(0, -1) end, function(g) return g.prev(0) end, true },
  dismiss = { function(n) return n.dismiss(0) end, function(g) return g.dismiss(0) end },
}

for name, calls in pairs(table_of) do
  M[name] = function()
    if calls[3] and not require('enclave.toggle').enabled(api.nvim_get_current_buf()) then
      return false
    end
    if require('enclave').native_inline() then return calls[1](require('enclave.native')) end
    return calls[2](require('enclave.ghost'))
  end
end

return M
