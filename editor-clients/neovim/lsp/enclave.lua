-- vim.lsp.enable('enclave') on Neovim 0.11+: the same configuration as require('enclave').setup()
-- builds (options from setup() when it was called, else the defaults). Override fields with
-- vim.lsp.config('enclave', { ... }); user-only settings belong in `init_options`.
return require('enclave.lsp').config()
