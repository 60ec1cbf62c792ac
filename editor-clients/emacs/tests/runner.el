;;; runner.el --- shared by the Eglot batch test scripts  -*- lexical-binding: t; -*-

;; Loaded by each script under `emacs --batch -q'.  Environment:
;;   ENCLAVE_EMACS_CONFIG  editor-clients/emacs/enclave-eglot.el (the file under test)
;;   ENCLAVE_TEST_CMD      the server command, a JSON list
;;   ENCLAVE_TEST_SETTINGS initializationOptions, a JSON object (optional)
;;   ENCLAVE_TEST_FILE     the Python file to open
;;   ENCLAVE_TEST_OUT      where the observations are written (JSON)
;; The assertions are in tests/editors/test_emacs.py.

;;; Code:

(load (expand-file-name "common.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-connect ()
  "Load the configuration, open the file, M-x eglot, wait until ready.
With ENCLAVE_TEST_CONNECT=hook the README's `eglot-ensure' hook connects instead, at
the first command after the file opens.  Return the buffer."
  (load (enclave-test-env "ENCLAVE_EMACS_CONFIG") nil t)
  (setq enclave-command (json-parse-string (enclave-test-env "ENCLAVE_TEST_CMD")
                                           :array-type 'list))
  (let ((settings (enclave-test-env "ENCLAVE_TEST_SETTINGS" "")))
    (unless (equal settings "")
      (setq enclave-settings (json-parse-string settings :object-type 'plist
                                                      :false-object :json-false))))
  (setq eglot-autoreconnect nil)
  (let* ((by (enclave-test-env "ENCLAVE_TEST_CONNECT" "command"))
         (buffer (progn (when (equal by "hook")
                          (add-hook 'python-mode-hook #'eglot-ensure))
                        (find-file-noselect (enclave-test-env "ENCLAVE_TEST_FILE")))))
    (set-buffer buffer)
    (enclave-test-put "major_mode" (symbol-name major-mode))
    (enclave-test-put "connected_by" by)
    (if (equal by "hook")
        ;; eglot-ensure connects after the next command; batch Emacs runs none.
        (run-hooks 'post-command-hook)
      (call-interactively #'eglot))     ; M-x eglot
    (enclave-test-wait "eglot manages the buffer" 60
                       (lambda () (with-current-buffer buffer eglot--managed-mode)))
    (enclave-test-put "server_name"
                      (plist-get (eglot--server-info (eglot-current-server)) :name))
    (enclave-test-wait "model ready" 600
                       (lambda ()
                         (let ((state (plist-get enclave-status :state)))
                           (when (equal state "error")
                             (error "Server error: %s" (plist-get enclave-status :message)))
                           (equal state "ready"))))
    ;; Flymake runs its backends after a command or a change; there is none in batch, so
    ;; start it once, as the first command of a session would.
    (flymake-start)
    buffer))

(defun enclave-test-enclave-diagnostics ()
  "Flymake's diagnostics from Enclave, as [LINE MESSAGE TYPE]."
  (cl-loop for d in (flymake-diagnostics)
           for lsp = (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))
           when (equal (plist-get lsp :source) "enclave")
           collect (vector (line-number-at-pos (flymake-diagnostic-beg d))
                           (flymake-diagnostic-text d)
                           (symbol-name (flymake-diagnostic-type d)))))

(defun enclave-test-document-state ()
  "Whether the server's copy of the document is the buffer's text."
  (let ((state (jsonrpc-request (eglot-current-server) :enclave/documentState
                                `(:uri ,(eglot--path-to-uri buffer-file-name))
                                :deferred :enclave/documentState)))
    `(("server_sha256" . ,(plist-get state :sha256))
      ("buffer_sha256" . ,(secure-hash 'sha256 (encode-coding-string
                                                (save-restriction (widen) (buffer-string))
                                                'utf-8)))
      ("desynced" . ,(plist-get state :desynced)))))

(defvar enclave-test-completion-answers nil "textDocument/completion results, newest first.")

(defun enclave-test-record-completion (request server method params &rest args)
  "Around `jsonrpc-request': keep the answers to textDocument/completion.
Observation only: REQUEST runs with SERVER, METHOD, PARAMS and ARGS."
  (let ((result (apply request server method params args)))
    (when (eq method :textDocument/completion)
      (push result enclave-test-completion-answers))
    result))

(defun enclave-test-complete ()
  "M-x completion-at-point; the answers go to `enclave-test-completion-answers'."
  (advice-add 'jsonrpc-request :around #'enclave-test-record-completion)
  (unwind-protect (completion-at-point)
    (advice-remove 'jsonrpc-request #'enclave-test-record-completion)))

(defun enclave-test-save-events (server)
  "Write Eglot's log of the JSON-RPC traffic to $ENCLAVE_TEST_EVENTS, if set."
  (let ((file (enclave-test-env "ENCLAVE_TEST_EVENTS" "")))
    (unless (equal file "")
      (with-current-buffer (jsonrpc-events-buffer server)
        (write-region nil nil file nil 'silent)))))

(defun enclave-test-wait-synced (what)
  "Wait until the server's copy of the document is the buffer's text (WHAT)."
  (enclave-test-wait what 30
                     (lambda ()
                       (let ((state (enclave-test-document-state)))
                         (equal (cdr (assoc "server_sha256" state))
                                (cdr (assoc "buffer_sha256" state)))))))

(defun enclave-test-review ()
  "M-x enclave-review; wait for its findings in Flymake and record them."
  (let* ((result (call-interactively #'enclave-review))
         (findings (plist-get result :findings)))
    (enclave-test-put "review_result" result)
    (enclave-test-wait "review diagnostics in Flymake" 30
                       (lambda () (>= (length (enclave-test-enclave-diagnostics)) findings)))
    (enclave-test-put "review_diagnostics" (vconcat (enclave-test-enclave-diagnostics)))))

(setq enclave-test-cleanup
      (lambda ()
        (when-let ((server (eglot-current-server)))
          (enclave-test-save-events server)
          (ignore-errors (eglot-shutdown server)))))

;;; runner.el ends here
