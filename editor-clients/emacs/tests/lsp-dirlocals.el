;;; lsp-dirlocals.el --- a repository cannot choose Enclave's server, environment or settings  -*- lexical-binding: t; -*-

;; The test file's directory has a .dir-locals.el that sets `enclave-command', `exec-path'
;; and `process-environment' (PYTHONPATH to a sitecustomize.py; scripts and the module leave
;; markers) and `enclave-settings' (a model path that is not a model), and the user accepts
;; every local variable.  ENCLAVE_TEST_EXPECT "enclave": lsp-mode must start the user's
;; server with the user's settings and environment; "absent" (the user's `enclave' is on no
;; global exec-path): no Enclave at all, rather than the repository's.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(setq enable-local-variables :all)      ; the worst case: a user who says yes to everything

(enclave-test-run
 (lambda ()
   (let ((buffer (if (equal (enclave-test-env "ENCLAVE_TEST_EXPECT") "enclave")
                     (enclave-test-connect)
                   (prog1 (enclave-test-start)
                     ;; The other server starts; give Enclave as long to appear.
                     (enclave-test-wait "the other server initialized" 60
                                        (lambda () (cl-some (lambda (w)
                                                              (eq (lsp--workspace-status w)
                                                                  'initialized))
                                                            (lsp-workspaces))))
                     (sleep-for 3)))))
     (with-current-buffer buffer
       (enclave-test-put-locals)
       (enclave-test-put "servers" (enclave-test-server-ids))
       (when-let ((workspace (enclave-lsp--workspace)))
         (let ((process (lsp--workspace-cmd-proc workspace)))
           (enclave-test-put "server_command" (vconcat (process-command process)))
           (enclave-test-put "server_environment" (enclave-test-environ process)))
         (enclave-test-put "status" (enclave-lsp-status)))))))

;;; lsp-dirlocals.el ends here
