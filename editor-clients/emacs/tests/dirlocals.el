;;; dirlocals.el --- a repository cannot choose Enclave's server, environment or settings  -*- lexical-binding: t; -*-

;; The test file's directory has a .dir-locals.el that sets `enclave-command', `exec-path',
;; `process-environment' and `enclave-settings' (tests/editors/test_emacs.py, HostileRepo), and
;; the user accepts every local variable.  Eglot must start the user's server with the user's
;; environment and settings.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(setq enable-local-variables :all)      ; the worst case: a user who says yes to everything

(enclave-test-run
 (lambda ()
   (let ((buffer (if (equal (enclave-test-env "ENCLAVE_TEST_EXPECT" "enclave") "enclave")
                     (enclave-test-connect)
                   ;; `enclave' is on no global exec-path: M-x eglot must fail, not run the
                   ;; repository's.
                   (condition-case err (enclave-test-connect)
                     (error (enclave-test-put "connect_error" (error-message-string err))
                            (get-file-buffer (enclave-test-env "ENCLAVE_TEST_FILE")))))))
     (with-current-buffer buffer
       (enclave-test-put-locals)
       (when-let ((server (eglot-current-server)))
         (let ((process (jsonrpc--process server)))
           (enclave-test-put "server_command" (vconcat (process-command process)))
           (enclave-test-put "server_environment" (enclave-test-environ process)))
         (enclave-test-put "status" (enclave-status)))))))

;;; dirlocals.el ends here
