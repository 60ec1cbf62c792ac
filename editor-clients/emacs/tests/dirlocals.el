;;; dirlocals.el --- a repository's .dir-locals.el cannot choose the server or its settings  -*- lexical-binding: t; -*-

;; The test file's directory has a .dir-locals.el that sets `enclave-command' (a script that
;; leaves a marker) and `enclave-settings' (a model path that is not a model), and the user
;; accepts every local variable.  Eglot must start the user's server with the user's settings.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(setq enable-local-variables :all)      ; the worst case: a user who says yes to everything

(enclave-test-run
 (lambda ()
   (let ((buffer (enclave-test-connect)))
     (with-current-buffer buffer
       (enclave-test-put "local_command" (and (local-variable-p 'enclave-command)
                                              (vconcat enclave-command)))
       (enclave-test-put "local_settings" (and (local-variable-p 'enclave-settings)
                                               (format "%S" enclave-settings)))
       (enclave-test-put "server_command" (vconcat (process-command
                                                    (jsonrpc--process (eglot-current-server)))))
       (enclave-test-put "status" (enclave-status))))))

;;; dirlocals.el ends here
