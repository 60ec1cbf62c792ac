;;; lsp-dirlocals.el --- a repository cannot choose Enclave's server or settings (lsp-mode)  -*- lexical-binding: t; -*-

;; The test file's directory has a .dir-locals.el that sets `enclave-command' and `exec-path'
;; (to scripts that leave a marker) and `enclave-settings' (a model path that is not a model),
;; and the user accepts every local variable.  lsp-mode must start the user's server with
;; the user's settings.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(setq enable-local-variables :all)      ; the worst case: a user who says yes to everything

(enclave-test-run
 (lambda ()
   (let ((buffer (enclave-test-connect)))
     (with-current-buffer buffer
       (enclave-test-put "local_command" (and (local-variable-p 'enclave-command)
                                              (vconcat enclave-command)))
       (enclave-test-put "local_exec_path" (and (local-variable-p 'exec-path)
                                                (vconcat exec-path)))
       (enclave-test-put "local_settings" (and (local-variable-p 'enclave-settings)
                                               (format "%S" enclave-settings)))
       (enclave-test-put "server_command"
                         (vconcat (process-command
                                   (lsp--workspace-cmd-proc (enclave-lsp--workspace)))))
       (enclave-test-put "status" (enclave-lsp-status))))))

;;; lsp-dirlocals.el ends here
