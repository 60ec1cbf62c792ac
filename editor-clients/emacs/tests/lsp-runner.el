;;; lsp-runner.el --- shared by the lsp-mode batch test scripts  -*- lexical-binding: t; -*-

;; Loaded by each lsp-*.el script under `emacs --batch -q'.  Environment:
;;   ENCLAVE_EMACS_CONFIG  editor-clients/emacs/enclave-lsp-mode.el (the file under test)
;;   ENCLAVE_TEST_CMD      Enclave's command, a JSON list
;;   ENCLAVE_TEST_SETTINGS initializationOptions, a JSON object (optional)
;;   OTHER_SERVER_CMD      the stand-in for the language's own server, a JSON list
;;   ENCLAVE_TEST_FILE     the Python file to open
;;   ENCLAVE_TEST_OUT      where the observations are written (JSON)
;;   ENCLAVE_TEST_EVENTS   where lsp-mode's log of the traffic goes (optional)
;; The assertions are in tests/editors/test_emacs_lsp_mode.py.

;;; Code:

(load (expand-file-name "common.el" (file-name-directory load-file-name)) nil t)
(package-activate-all)                  ; as Emacs starts for a user: lsp-mode's autoloads
(require 'lsp-mode)

(defvar enclave-test-sent nil
  "What lsp-mode sent, newest first: [SERVER-ID METHOD COMMAND].")

(defun enclave-test-record-sent (message proc)
  "Before `lsp--send-no-wait': note which server gets which MESSAGE (through PROC)."
  (condition-case err
      (when-let ((workspace (cl-find proc (lsp--session-workspaces (lsp-session))
                                     :key #'lsp--workspace-proc))
                 (body (and (string-match "\r\n\r\n" message)
                            (json-parse-string (substring message (match-end 0))
                                               :object-type 'alist :null-object nil)))
                 (method (alist-get 'method body)))
        (push (vector (symbol-name (lsp--client-server-id (lsp--workspace-client workspace)))
                      method
                      (let ((params (alist-get 'params body)))
                        (or (and (listp params) (alist-get 'command params)) :null)))
              enclave-test-sent))
    (error (enclave-test-put "record_error" (error-message-string err)))))

(defvar enclave-test-accepts nil
  "The workspace/executeCommand requests answered, newest first: ((arguments . A) (answer . R)).")

(defun enclave-test-record-execute (request method params callback &rest args)
  "Around `lsp-request-async': note each executeCommand's arguments and its answer.
Observation only: REQUEST runs with METHOD, PARAMS, CALLBACK and ARGS."
  (apply request method params
         (if (not (equal method "workspace/executeCommand"))
             callback
           (lambda (result)
             (push `(("arguments" . ,(plist-get params :arguments)) ("answer" . ,result))
                   enclave-test-accepts)
             (funcall callback result)))
         args))

(defun enclave-test-wait-accepts (n what)
  "Wait until N executeCommand requests were answered (WHAT).
With statistics off (ENCLAVE_TEST_STATS=off) none is due: let Emacs run half a second,
for one sent all the same to be seen."
  (if (equal (enclave-test-env "ENCLAVE_TEST_STATS" "on") "off")
      (let ((end (+ (float-time) 0.5)))
        (enclave-test-wait what 5 (lambda () (> (float-time) end))))
    (enclave-test-wait what 30 (lambda () (>= (length enclave-test-accepts) n)))))

(defun enclave-test-session-stats ()
  "The getStatus figures of this session, per language."
  (lsp-get (lsp-get (enclave-lsp--request "enclave/getStatus" (make-hash-table)) :stats)
           :session))

(defun enclave-test-start ()
  "Load the configuration, open the file, M-x lsp.  Return the buffer.
With ENCLAVE_TEST_CONNECT=hook the README's `lsp-deferred' hook starts lsp-mode
instead, once the buffer is shown and Emacs is idle."
  (load (enclave-test-env "ENCLAVE_EMACS_CONFIG") nil t)
  (setq enclave-command (json-parse-string (enclave-test-env "ENCLAVE_TEST_CMD")
                                           :array-type 'list))
  (let ((settings (enclave-test-env "ENCLAVE_TEST_SETTINGS" "")))
    (unless (equal settings "")
      (setq enclave-settings (json-parse-string settings :object-type 'plist
                                                      :false-object :json-false))))
  ;; The language's own server: a main (not add-on) client for python-mode, as pyright's is.
  (lsp-register-client
   (make-lsp-client :new-connection (lsp-stdio-connection
                                     (json-parse-string (enclave-test-env "OTHER_SERVER_CMD")
                                                        :array-type 'list))
                    :major-modes '(python-mode)
                    :server-id 'other
                    :priority 10))
  (setq lsp-enabled-clients '(other enclave)
        lsp-enable-snippet nil          ; no yasnippet here
        lsp-restart 'ignore
        lsp-log-io t)
  (advice-add 'lsp--send-no-wait :before #'enclave-test-record-sent)
  (advice-add 'lsp-request-async :around #'enclave-test-record-execute)
  (let* ((by (enclave-test-env "ENCLAVE_TEST_CONNECT" "command"))
         (buffer (progn (when (equal by "hook")
                          (add-hook 'python-mode-hook #'lsp-deferred))
                        (find-file-noselect (enclave-test-env "ENCLAVE_TEST_FILE")))))
    (switch-to-buffer buffer)
    (enclave-test-put "major_mode" (symbol-name major-mode))
    (enclave-test-put "connected_by" by)
    (lsp-workspace-folders-add (file-name-directory buffer-file-name)) ; no question asked
    (unless (equal by "hook")           ; the hook's idle timer starts it, in the waits
      (call-interactively #'lsp))       ; M-x lsp
    buffer))

(defun enclave-test-server-ids ()
  "The server ids of this buffer's workspaces, sorted."
  (vconcat (sort (mapcar (lambda (w)
                           (symbol-name (lsp--client-server-id (lsp--workspace-client w))))
                         (lsp-workspaces))
                 #'string<)))

(defun enclave-test-connect ()
  "`enclave-test-start', then wait until both servers and the model are ready."
  (let ((buffer (enclave-test-start)))
    (enclave-test-wait "both servers initialized" 60
                       (lambda ()
                         (let ((ws (with-current-buffer buffer (lsp-workspaces))))
                           (and (= 2 (length ws))
                                (cl-every (lambda (w) (eq (lsp--workspace-status w) 'initialized))
                                          ws)))))
    (enclave-test-put "servers" (enclave-test-server-ids))
    (enclave-test-wait "model ready" 600
                       (lambda ()
                         (let ((state (and enclave-lsp-status (lsp-get enclave-lsp-status :state))))
                           (when (equal state "error")
                             (error "Server error: %s" (lsp-get enclave-lsp-status :message)))
                           (equal state "ready"))))
    buffer))

(defun enclave-test-document-state ()
  "Whether Enclave's copy of the document is the buffer's text."
  (let ((state (enclave-lsp--request "enclave/documentState" (list :uri (lsp--buffer-uri)))))
    `(("server_sha256" . ,(lsp-get state :sha256))
      ("buffer_sha256" . ,(secure-hash 'sha256 (encode-coding-string
                                                (save-restriction (widen) (buffer-string))
                                                'utf-8)))
      ("desynced" . ,(lsp-get state :desynced)))))

(defun enclave-test-wait-synced (what)
  "Wait until Enclave's copy of the document is the buffer's text (WHAT)."
  (enclave-test-wait what 30
                     (lambda ()
                       (let ((state (enclave-test-document-state)))
                         (equal (cdr (assoc "server_sha256" state))
                                (cdr (assoc "buffer_sha256" state)))))))

(defun enclave-test-keys (keys)
  "Press KEYS (a `kbd' string), as a user would: the command loop runs their commands."
  (execute-kbd-macro (kbd keys)))

(defun enclave-test-ghost ()
  "The ghost text shown, or nil."
  (when-let ((s enclave-lsp--suggestion))
    (substring-no-properties (overlay-get (plist-get s :overlay) 'after-string))))

(defun enclave-test-wait-ghost (what)
  "Let Emacs idle until a suggestion is shown (WHAT); return its ghost text."
  (enclave-test-wait what 60 #'enclave-test-ghost))

(defun enclave-test-wait-answer (what timeout)
  "Let Emacs idle until the suggestion asked for (or about to be) has its answer (WHAT)."
  (enclave-test-wait what timeout
                     (lambda () (and (null enclave-lsp--timer)
                                     (null (gethash (enclave-lsp--token)
                                                    lsp--cancelable-requests))))))

(defun enclave-test-inline-requests ()
  "How many inlineCompletion requests went to Enclave so far."
  (cl-count-if (lambda (sent) (and (equal (aref sent 0) "enclave")
                                   (equal (aref sent 1) "textDocument/inlineCompletion")))
               enclave-test-sent))

(defun enclave-test-items ()
  "The insert texts of the items of the answer shown."
  (vconcat (mapcar (lambda (item)
                     (let ((text (lsp-get item :insertText)))
                       (if (stringp text) text (lsp-get text :value))))
                   (plist-get enclave-lsp--suggestion :items))))

(defun enclave-test-line ()
  (buffer-substring-no-properties (line-beginning-position) (line-end-position)))

(defun enclave-test-enclave-diagnostics ()
  "lsp-mode's diagnostics from Enclave in this buffer, as [LINE MESSAGE]."
  (cl-loop for d in (lsp--get-buffer-diagnostics)
           when (equal (lsp-get d :source) "enclave")
           collect (vector (1+ (lsp-get (lsp-get (lsp-get d :range) :start) :line))
                           (lsp-get d :message))))

(setq enclave-test-cleanup
      (lambda ()
        (enclave-test-put "sent" (vconcat (reverse enclave-test-sent)))
        (enclave-test-put "accepts" (vconcat (reverse enclave-test-accepts)))
        (let ((file (enclave-test-env "ENCLAVE_TEST_EVENTS" "")))
          (unless (equal file "")
            (dolist (buffer (buffer-list))
              (when (string-prefix-p "*lsp-log: " (buffer-name buffer))
                (with-current-buffer buffer
                  (write-region (format "\n=== %s\n" (buffer-name)) nil file t 'silent)
                  (write-region nil nil file t 'silent))))))))

;;; lsp-runner.el ends here
