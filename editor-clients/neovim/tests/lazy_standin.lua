-- A stand-in for lazy.nvim (not installable here), doing with one spec what lazy.nvim's
-- loader does for a plugin that is not lazy-loaded (lazy/core/loader.lua): `url` is cloned with
-- git into root/<name> (`dir` is used as it is), the folder goes on 'runtimepath', its
-- plugin/**/*.lua and *.vim are sourced in sorted order, then `config(plugin, opts)` runs, or,
-- with `opts` and no config, require(main).setup(opts).
local M = {}

function M.setup(specs, opts)
  for _, spec in ipairs(specs) do
    local name = spec.name or vim.fs.basename(spec.dir or spec.url or spec[1])
    local dir = spec.dir and vim.fs.normalize(spec.dir)
    if not dir then
      dir = opts.root .. '/' .. name
      local out = vim.fn.system({ 'git', 'clone', '-q', spec.url or spec[1], dir })
      assert(vim.v.shell_error == 0, out)
    end
    local plugin = { name = name, dir = dir }
    vim.opt.runtimepath:append(dir)
    local files = vim.fn.globpath(dir, 'plugin/**/*.{lua,vim}', false, true)
    table.sort(files)
    for _, file in ipairs(files) do vim.cmd.source(vim.fn.fnameescape(file)) end
    if type(spec.config) == 'function' then
      spec.config(plugin, spec.opts or {})
    elseif spec.opts ~= nil or spec.config == true then
      require(spec.main or name).setup(spec.opts or {})
    end
  end
end

return M
