;;; enclave-eglot.el --- Enclave (local code model, LSP) with Eglot  -*- lexical-binding: t; -*-

;; Tested with Emacs 28.2 and Eglot 1.9 (Debian 12: emacs-nox, elpa-eglot)
;; against the real server by tests/editors/test_emacs.py.
;;
;; Usage, in your init file:
;;
;;   (load "/path/to/enclave/editor-clients/emacs/enclave-eglot.el")
;;   (setq enclave-settings '(:model (:size "1.5b")))  ; optional
;;   (add-hook 'python-mode-hook #'eglot-ensure)       ; or M-x eglot
;;
;; It loads enclave-common.el from its own folder: keep the two files together.
;;
;; Eglot runs one server per major mode and project: Enclave replaces your
;; usual Python server in those buffers.  Commands:
;;
;;   M-x enclave-code-actions  code actions, like M-x eglot-code-actions (which
;;                             runs Enclave's refactors too: the server offers
;;                             them as commands to clients without
;;                             codeAction/resolve), and shows "Explain"
;;   M-x enclave-review        review the buffer (or region): the findings go
;;                             to Flymake, their fixes are quick fixes
;;                             (M-x eglot-code-actions on a finding)
;;   M-x enclave-explain       explain the region (or definition at point)
;;   M-x enclave-rewrite       rewrite the region (or definition) as told
;;   M-x enclave-status        the model's state
;;   M-x enclave-stats         local statistics of the suggestions (never sent
;;                             anywhere): shown, accepted, characters, latency
;;
;; Completion: Eglot has no inline (ghost text) completion; the suggestion
;; comes as one item of `completion-at-point' (C-M-i, Company, Corfu).
;; Choosing it tells Enclave, for its local statistics (Eglot 1.9 does not
;; run a completion item's command: this configuration does).

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)

(require 'enclave-common
         (expand-file-name "enclave-common.el"
                           (file-name-directory
                            (or load-file-name (bound-and-true-p byte-compile-current-file)
                                buffer-file-name))))

(defcustom enclave-completion-deadline-ms 8000
  "The server setting completion.deadlineMs, sent before `enclave-settings'.
Eglot's completion request gives up after 10 s (the constant
`jsonrpc-default-request-timeout'); by this deadline the server answers
with what the model wrote so far.  Nil: the server's own deadline."
  :type '(choice (const nil) integer)
  :group 'enclave)

(defvar enclave-status nil
  "The last enclave/status notification, a plist (:state :message ...).")

(defun enclave--start ()
  "Start the server: `enclave--command', `enclave--call-with-user-environment'."
  ;; jsonrpc reads stderr from the buffer Eglot named after the project and modes.
  (let ((name (format "*EGLOT (%s/%s) stderr*"
                      (file-name-base (directory-file-name default-directory))
                      (car (eglot--lookup-mode major-mode)))))
    (enclave--call-with-user-environment
     #'make-process :name "enclave"
     :command (enclave--command)
     :connection-type 'pipe
     :coding 'utf-8-emacs-unix
     :noquery t
     :stderr (or (get-buffer name) (get-buffer-create "*Enclave stderr*")))))

(defun enclave--contact (&optional _interactive)
  "The Eglot contact: the process (`enclave--start') and `enclave-settings'.
Eglot calls this in the buffer being connected, where a repository's
.dir-locals.el may have set buffer-local values: the global ones count.
Later changes may go in `eglot-workspace-configuration' under :enclave; a
repository can set that variable, so the server ignores user-only settings
there."
  (let ((settings (default-value 'enclave-settings))
        (deadline (default-value 'enclave-completion-deadline-ms)))
    `(eglot-lsp-server
      :process enclave--start
      :initializationOptions
      ,(lambda (_server)
         (or (append (and deadline `(:completion.deadlineMs ,deadline))
                     settings)
             (make-hash-table))))))

(add-to-list 'eglot-server-programs `(,enclave-major-modes . enclave--contact))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql enclave/status))
           &rest status &key state message &allow-other-keys)
  "Keep the STATUS in `enclave-status'; say when the STATE changes.
MESSAGE tells why, for an error."
  (unless (equal state (plist-get enclave-status :state))
    (when (member state '("ready" "error"))
      (eglot--message "Enclave: %s%s" state
                      (if (member message (list nil "" state)) ""
                        (concat " (" message ")")))))
  (setq enclave-status status))

(defun enclave--server ()
  (or (eglot-current-server)
      (user-error "Enclave: this buffer has no Eglot server (M-x eglot)")))

(defun enclave--request (method params)
  "Send METHOD with PARAMS (pending edits first) and wait for the answer."
  (jsonrpc-request (enclave--server) method params
                   :deferred method :timeout enclave-request-timeout))

(defun enclave--argument (beg end)
  "The {uri, range} argument of Enclave's commands for BEG..END."
  `(:uri ,(eglot--path-to-uri buffer-file-name)
    :range (:start ,(eglot--pos-to-lsp-position beg)
            :end ,(eglot--pos-to-lsp-position end))))

(defun enclave--bounds ()
  (if (use-region-p)
      (list (region-beginning) (region-end))
    (list (point) (point))))

(defun enclave--execute (command arguments)
  "Run the server COMMAND with ARGUMENTS (a vector); show its result."
  (when (and (equal command "enclave.lsp.rewrite")
             (not (plist-get (aref arguments 0) :instruction)))
    (setq arguments
          (vector (append (aref arguments 0)
                          (list :instruction (read-string "Rewrite: "))))))
  (let ((result (enclave--request :workspace/executeCommand
                                  `(:command ,command :arguments ,arguments))))
    (pcase command
      ("enclave.lsp.explain"
       (enclave--show-explanation (plist-get result :markdown)))
      ("enclave.lsp.review"
       (eglot--message "Enclave: %s finding(s), shown by Flymake"
                       (plist-get result :findings)))
      ("enclave.lsp.rewrite"
       (eglot--message "Enclave: %s" (plist-get result :message))))
    result))

(defun enclave-run-code-action (action)
  "Run the code ACTION (a plist from `eglot-code-actions').
Resolve it first when it comes without an edit or a command."
  (when-let ((disabled (plist-get action :disabled)))
    (user-error "%s" (plist-get disabled :reason)))
  (when (and (plist-get action :data)
             (not (plist-get action :edit))
             (not (plist-get action :command))
             (eglot--server-capable :codeActionProvider :resolveProvider))
    (setq action (enclave--request :codeAction/resolve action))
    (when (plist-get (plist-get action :data) :error)
      (user-error "%s" (plist-get action :title))))
  (let ((command (plist-get action :command)))
    (if (stringp command)               ; a bare Command
        (enclave--execute command (plist-get action :arguments))
      (when-let ((edit (plist-get action :edit)))
        (eglot--apply-workspace-edit edit))
      (when command
        (enclave--execute (plist-get command :command)
                          (plist-get command :arguments))))))

(defun enclave-code-actions (beg end)
  "Choose a code action for BEG..END (the region, else point) and run it.
Unlike `eglot-code-actions' in Eglot 1.9, this resolves actions that need it
and shows the result of \"Explain\"."
  (interactive (enclave--bounds))
  (let* ((actions (eglot-code-actions beg end))
         (menu (or (mapcar (lambda (a) (cons (plist-get a :title) a)) actions)
                   (user-error "No code actions here")))
         (title (completing-read "Code action: " menu nil t)))
    (enclave-run-code-action (cdr (assoc title menu)))))

(defun enclave-review (beg end)
  "Review the buffer, or the region BEG..END; the findings go to Flymake.
Their fixes are quick fixes: `eglot-code-actions' on a finding."
  (interactive (if (use-region-p)
                   (list (region-beginning) (region-end))
                 (list nil nil)))
  (enclave--execute "enclave.lsp.review"
                    (vector (if beg (enclave--argument beg end)
                              `(:uri ,(eglot--path-to-uri buffer-file-name))))))

(defun enclave-explain (beg end)
  "Explain BEG..END (the region, else the definition at point).
The explanation goes to the buffer *Enclave explanation*."
  (interactive (enclave--bounds))
  (enclave--execute "enclave.lsp.explain" (vector (enclave--argument beg end))))

(defun enclave-rewrite (beg end instruction)
  "Rewrite BEG..END (region, else definition at point) following INSTRUCTION."
  (interactive `(,@(enclave--bounds) ,(read-string "Rewrite: ")))
  (enclave--execute "enclave.lsp.rewrite"
                    (vector `(,@(enclave--argument beg end)
                              :instruction ,instruction))))

(defun enclave-status ()
  "Show the state of Enclave's model."
  (interactive)
  (let ((status (enclave--request :enclave/getStatus (make-hash-table))))
    (message "Enclave: %s %s" (plist-get status :state)
             (or (plist-get status :message) ""))
    status))

(defun enclave--plist-pairs (plist)
  "The JSON object PLIST (keyword keys, as jsonrpc parses it) as (NAME . VALUE)."
  (cl-loop for (key value) on plist by #'cddr
           collect (cons (substring (symbol-name key) 1) value)))

(defun enclave-stats ()
  "Show Enclave's local statistics (per language: this session, all time)."
  (interactive)
  (let ((status (enclave--request :enclave/getStatus (make-hash-table))))
    (enclave--show-stats (plist-get status :stats) #'plist-get #'enclave--plist-pairs)))

;; -- acceptance reports ------------------------------------------------------------------------

(defun enclave--enclave-server-p (server)
  "Non-nil when SERVER is Enclave, started by this configuration."
  (eq (plist-get (eglot--saved-initargs server) :process) 'enclave--start))

(defun enclave--report-accepted (server item)
  "Run the completion ITEM's command on SERVER: the user accepted it.
Eglot 1.9's completion exit function inserts the item but never runs its
command; Enclave's (enclave.lsp.accepted) counts it in the local statistics.
Nothing when it has none (statistics off).  Asynchronous: never waits."
  (when-let ((command (plist-get item :command)))
    (jsonrpc-async-request
     server :workspace/executeCommand
     `(:command ,(plist-get command :command) :arguments ,(plist-get command :arguments))
     :success-fn #'ignore
     :error-fn (lambda (err)
                 (jsonrpc--debug server "Enclave: acceptance not counted: %s"
                                 (plist-get err :message))))))

(defun enclave--completion-at-point (capf)
  "Around `eglot-completion-at-point' (CAPF): report an accepted item to Enclave.
Its exit function runs Eglot's, then, when an item was chosen (status
`finished' or `exact', where Eglot inserts it), that item's command: once
per choice.  The server counts a full accept of one item once however often
it hears of it, so an Eglot that ran the command itself would not count it
twice."
  (let ((server (eglot-current-server))
        (result (funcall capf)))
    (if (not (and server (enclave--enclave-server-p server) (consp result)))
        result
      (let* ((table (nth 2 result))
             (exit (plist-get (nthcdr 3 result) :exit-function))
             (report
              (lambda (proxy status)
                (when exit (funcall exit proxy status))
                (when (memq status '(finished exact))
                  ;; From *Completions* the proxy has lost its properties: look it up.
                  (let ((item (or (get-text-property 0 'eglot--lsp-item proxy)
                                  (get-text-property
                                   0 'eglot--lsp-item
                                   (cl-find proxy (all-completions "" table) :test #'string=)))))
                    (when item (enclave--report-accepted server item)))))))
        `(,@(cl-subseq result 0 3)
          :exit-function ,report
          ,@(cl-loop for (key value) on (nthcdr 3 result) by #'cddr
                     unless (eq key :exit-function) append (list key value)))))))

(advice-add 'eglot-completion-at-point :around #'enclave--completion-at-point)

(provide 'enclave-eglot)
;;; enclave-eglot.el ends here
