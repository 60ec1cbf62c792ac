;;; enclave-lsp-mode.el --- Enclave (local code model, LSP) beside your server in lsp-mode  -*- lexical-binding: t; -*-

;; Tested with Emacs 28.2 and lsp-mode 8.0.0 (Debian 12: emacs-nox, elpa-lsp-mode) against
;; the real server, beside another language server, by tests/editors/test_emacs_lsp_mode.py.
;;
;; Usage, in your init file:
;;
;;   (require 'lsp-mode)
;;   (load "/path/to/enclave/editor-clients/emacs/enclave-lsp-mode.el")
;;   (setq enclave-command '("/path/to/enclave/.venv/bin/enclave" "serve")) ; if not on PATH
;;   (setq enclave-settings '(:model (:size "1.5b")))                       ; optional
;;   (add-hook 'python-mode-hook #'lsp-deferred)
;;
;; It loads enclave-common.el from its own folder: keep the two files together.
;;
;; Enclave is an add-on server: lsp-mode starts it beside the buffer's own server (pyright,
;; pylsp, ruff, ...), which keeps answering hover, completion and the rest.
;;
;; Ghost text: lsp-mode 8 has no inline completion, so `enclave-lsp-ghost-mode' (on in
;; Enclave's buffers) asks for textDocument/inlineCompletion when you pause typing and shows
;; the suggestion after point.  While it is shown, and only then:
;;
;;   TAB  accept it all          M-f  accept its next word
;;   C-e  accept its next line   C-g  dismiss it
;;   M-n  the next suggestion    M-p  the previous one
;;
;; (the keys are in `enclave-lsp-suggestion-map').  Typing what it shows keeps the rest shown;
;; moving away dismisses it.  M-x enclave-lsp-suggest asks at point now.  Accepting tells
;; Enclave how much of the suggestion was taken, for its local statistics (never sent
;; anywhere; M-x enclave-lsp-stats shows them).
;;
;; Commands (each asks Enclave only, never the other server):
;;
;;   M-x enclave-lsp-code-actions  Enclave's code actions: refactors, "Explain", "Rewrite
;;                                 with instruction...", fixes of findings and "Fix with
;;                                 Enclave" on the other server's diagnostics
;;   M-x enclave-lsp-review        review the buffer (or region); findings as diagnostics
;;   M-x enclave-lsp-explain       explain the region (or definition at point)
;;   M-x enclave-lsp-rewrite       rewrite the region (or definition) as told
;;   M-x enclave-lsp-status        the model's state
;;   M-x enclave-lsp-stats         local statistics of the suggestions (per language)
;;
;; lsp-mode's own M-x lsp-execute-code-action lists Enclave's actions too (chosen there,
;; Enclave alone resolves them).

;;; Code:

(require 'cl-lib)
(require 'lsp-mode)

(require 'enclave-common
         (expand-file-name "enclave-common.el"
                           (file-name-directory
                            (or load-file-name (bound-and-true-p byte-compile-current-file)
                                buffer-file-name))))

(defcustom enclave-lsp-ghost-text t
  "Non-nil: turn on `enclave-lsp-ghost-mode' in the buffers Enclave serves."
  :type 'boolean
  :group 'enclave)

(defcustom enclave-lsp-completion-list nil
  "Non-nil: the suggestion is also an item of `completion-at-point'.
lsp-mode merges the items of all servers and waits for the slowest, so
with this on the other server's completion list waits for the model too."
  :type 'boolean
  :group 'enclave)

(defcustom enclave-lsp-idle-delay 0.3
  "Seconds of pause in typing before a suggestion is asked for."
  :type 'number
  :group 'enclave)

(defface enclave-lsp-suggestion '((t :inherit shadow))
  "Face of the ghost text."
  :group 'enclave)

(defvar enclave-lsp-status nil
  "The last enclave/status notification (state, message, model, lastEmptyReason).")

;; -- positions: LSP counts UTF-16 code units, lsp-mode 8 counts characters -----------------

(defun enclave-lsp--wide-chars (beg end)
  "How many characters outside the BMP (two UTF-16 units each) BEG..END holds."
  (save-excursion
    (goto-char beg)
    (let ((n 0))
      (while (progn (skip-chars-forward "\u0000-\uffff" end) (< (point) end))
        (cl-incf n)
        (forward-char))
      n)))

(defun enclave-lsp--position (pos)
  "The LSP Position of POS."
  (save-excursion
    (goto-char pos)
    (let ((bol (line-beginning-position)))
      (list :line (1- (line-number-at-pos pos))
            :character (+ (- pos bol) (enclave-lsp--wide-chars bol pos))))))

(defun enclave-lsp--range (beg end)
  (list :start (enclave-lsp--position beg) :end (enclave-lsp--position end)))

(defun enclave-lsp--point (position)
  "The point of the LSP POSITION (past a line's end: its end)."
  (save-excursion
    (goto-char (point-min))
    (forward-line (lsp-get position :line))
    (let ((units (lsp-get position :character)) (eol (line-end-position)))
      (while (and (< (point) eol)
                  (> (cl-decf units (if (> (following-char) #xffff) 2 1)) -1))
        (forward-char))
      (point))))

(defvar-local enclave-lsp--before-change nil
  "(START END OFF) of the change under way; OFF: lsp-mode's range for it would be wrong.")

(defun enclave-lsp--note-change (start end)
  "Before a change of START..END: note whether lsp-mode will name its range right.
lsp-mode 8 counts characters where LSP counts UTF-16 units (they differ after a
character outside the BMP on the line), and breaks lines at LF only where LSP
breaks them at a lone CR too."
  (setq enclave-lsp--before-change
        (list start end
              (or (> (enclave-lsp--wide-chars
                      (save-excursion (goto-char start) (line-beginning-position))
                      end)
                     0)
                  (save-excursion
                    (goto-char (point-min))
                    (skip-chars-forward "^\r" end)
                    (< (point) end))))))

(defun enclave-lsp--enclave-p (workspace)
  (and workspace (eq (lsp--client-server-id (lsp--workspace-client workspace)) 'enclave)))

(defun enclave-lsp--change-event (change-event start end length)
  "Around lsp-mode's CHANGE-EVENT for START END LENGTH: the full text for Enclave
where lsp-mode's range would be wrong (`enclave-lsp--note-change')."
  (let ((event (funcall change-event start end length))
        (before enclave-lsp--before-change))
    (if (and (plist-get event :range)
             (enclave-lsp--enclave-p lsp--cur-workspace)
             (not (and (eql start (nth 0 before))
                       (eql length (- (nth 1 before) (nth 0 before)))
                       (not (nth 2 before)))))
        (lsp--full-change-event)
      event)))

(advice-add 'lsp--text-document-content-change-event :around #'enclave-lsp--change-event)

;; -- requests to Enclave only ----------------------------------------------------------------

(defun enclave-lsp--workspace ()
  "Enclave's workspace in this buffer, or nil."
  (cl-find-if #'enclave-lsp--enclave-p (lsp-workspaces)))

(defun enclave-lsp--request (method params)
  "Send METHOD with PARAMS to Enclave alone and wait for the answer."
  (let ((workspace (or (enclave-lsp--workspace)
                       (user-error "Enclave: not running in this buffer (M-x lsp)")))
        (lsp-response-timeout enclave-request-timeout))
    (with-lsp-workspace workspace
      (lsp-request method params))))

(defun enclave-lsp--argument (beg end)
  "The {uri, range} argument of Enclave's commands for BEG..END."
  (list :uri (lsp--buffer-uri) :range (enclave-lsp--range beg end)))

(defun enclave-lsp--bounds ()
  (if (use-region-p)
      (list (region-beginning) (region-end))
    (list (point) (point))))

(defun enclave-lsp--execute (command arguments)
  "Run Enclave's COMMAND with ARGUMENTS (a vector); show its result."
  (let ((result (enclave-lsp--request "workspace/executeCommand"
                                      (list :command command :arguments arguments))))
    (pcase command
      ("enclave.lsp.explain"
       (enclave--show-explanation (lsp-get result :markdown)))
      ("enclave.lsp.review"
       (lsp--info "Enclave: %s finding(s)" (lsp-get result :findings)))
      ((and (or "enclave.lsp.rewrite" "enclave.lsp.refactor") (guard result))
       (lsp--info "%s" (lsp-get result :message))))
    result))

(defun enclave-lsp--run-command (command)
  "Run the Command object COMMAND the server sent; ask for a missing instruction.
Also what lsp-mode calls for Enclave's commands (`lsp-execute-code-action')."
  (let ((name (lsp-get command :command))
        (arguments (lsp-get command :arguments)))
    (when (and (equal name "enclave.lsp.rewrite")
               (not (lsp-get (aref arguments 0) :instruction)))
      (lsp-put (aref arguments 0) :instruction (read-string "Rewrite: ")))
    (enclave-lsp--execute name arguments)))

(defun enclave-lsp-run-code-action (action)
  "Run Enclave's code ACTION; resolve it first when it needs it."
  (when-let ((disabled (lsp-get action :disabled)))
    (user-error "%s" (lsp-get disabled :reason)))
  (when (and (lsp-get action :data) (not (lsp-get action :edit))
             (not (lsp-get action :command)))
    (setq action (enclave-lsp--request "codeAction/resolve" action))
    (when (lsp-get (lsp-get action :data) :error)
      (user-error "%s" (lsp-get action :title))))
  (let ((command (lsp-get action :command)))
    (when-let ((edit (lsp-get action :edit)))
      (lsp--apply-workspace-edit edit 'code-action))
    (cond ((stringp command) (enclave-lsp--run-command action)) ; a bare Command
          (command (enclave-lsp--run-command command)))))

(defun enclave-lsp--execute-code-action (execute action)
  "Around lsp-mode's EXECUTE of the code ACTION: Enclave resolves its own alone.
lsp-mode 8 sends codeAction/resolve to every server that resolves code actions
and cannot merge two answers: another server's answer broke Enclave's action."
  (if (and (ignore-errors (lsp-get (lsp-get action :data) :enclave))
           (enclave-lsp--workspace))
      (enclave-lsp-run-code-action action)
    (funcall execute action)))

(advice-add 'lsp-execute-code-action :around #'enclave-lsp--execute-code-action)

(defun enclave-lsp-code-actions (beg end)
  "Choose one of Enclave's code actions for BEG..END (region, else point); run it."
  (interactive (enclave-lsp--bounds))
  (let* ((actions (enclave-lsp--request
                   "textDocument/codeAction"
                   (list :textDocument (lsp--text-document-identifier)
                         :range (enclave-lsp--range beg end)
                         :context (list :diagnostics (vconcat (lsp-cur-line-diagnostics))))))
         (menu (or (mapcar (lambda (a) (cons (lsp-get a :title) a)) actions)
                   (user-error "No Enclave actions here")))
         (title (completing-read "Enclave action: " menu nil t)))
    (enclave-lsp-run-code-action (cdr (assoc title menu)))))

(defun enclave-lsp-review (beg end)
  "Review the buffer, or the region BEG..END; the findings come as diagnostics."
  (interactive (if (use-region-p) (list (region-beginning) (region-end)) (list nil nil)))
  (enclave-lsp--execute "enclave.lsp.review"
                        (vector (if beg (enclave-lsp--argument beg end)
                                  (list :uri (lsp--buffer-uri))))))

(defun enclave-lsp-explain (beg end)
  "Explain BEG..END (the region, else the definition at point).
The explanation goes to the buffer *Enclave explanation*."
  (interactive (enclave-lsp--bounds))
  (enclave-lsp--execute "enclave.lsp.explain" (vector (enclave-lsp--argument beg end))))

(defun enclave-lsp-rewrite (beg end instruction)
  "Rewrite BEG..END (region, else definition at point) following INSTRUCTION."
  (interactive `(,@(enclave-lsp--bounds) ,(read-string "Rewrite: ")))
  (enclave-lsp--execute "enclave.lsp.rewrite"
                        (vector `(,@(enclave-lsp--argument beg end)
                                  :instruction ,instruction))))

(defun enclave-lsp-status ()
  "Show the state of Enclave's model."
  (interactive)
  (let ((status (enclave-lsp--request "enclave/getStatus" (make-hash-table))))
    (message "Enclave: %s %s" (lsp-get status :state) (or (lsp-get status :message) ""))
    status))

(defun enclave-lsp--pairs (object)
  "The JSON OBJECT as (NAME . VALUE) pairs."
  (let (pairs)
    (lsp-map (lambda (key value) (push (cons key value) pairs)) object)
    (nreverse pairs)))

(defun enclave-lsp-stats ()
  "Show Enclave's local statistics (per language: this session, all time)."
  (interactive)
  (let ((status (enclave-lsp--request "enclave/getStatus" (make-hash-table))))
    (enclave--show-stats (lsp-get status :stats)
                         (lambda (object key) (and object (lsp-get object key)))
                         #'enclave-lsp--pairs)))

;; -- ghost text ------------------------------------------------------------------------------

(defvar-local enclave-lsp--suggestion nil
  "The suggestion shown, a plist.
:start :end :text :point :display :overlay, and :item :from :reported:
ITEM: the server's item (its command reports the acceptance); FROM: how many
of its characters are before the DISPLAY (typed or accepted); REPORTED: the
most reported as accepted so far.")
(defvar-local enclave-lsp--shown nil "Non-nil while a suggestion is shown.")
(defvar-local enclave-lsp--timer nil)
(defvar enclave-lsp-ghost-mode)         ; the minor mode, defined below
(defvar-local enclave-lsp--tick nil "`buffer-chars-modified-tick' after the last command.")

(defvar enclave-lsp-suggestion-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'enclave-lsp-accept)
    (define-key map (kbd "<tab>") #'enclave-lsp-accept)
    (define-key map (kbd "M-f") #'enclave-lsp-accept-word)
    (define-key map (kbd "C-e") #'enclave-lsp-accept-line)
    (define-key map (kbd "C-g") #'enclave-lsp-dismiss)
    (define-key map (kbd "M-n") #'enclave-lsp-next)
    (define-key map (kbd "M-p") #'enclave-lsp-previous)
    map)
  "Keys active while a suggestion is shown, and only then.
Change them with `define-key'.")

;; Above minor modes' maps (Company, Yasnippet), in the buffer showing a suggestion only.
(defvar enclave-lsp--emulation-alist `((enclave-lsp--shown . ,enclave-lsp-suggestion-map)))
(add-to-list 'emulation-mode-map-alists 'enclave-lsp--emulation-alist)

(defun enclave-lsp--token ()
  (list :enclave-inline (current-buffer)))

(defun enclave-lsp--clear ()
  (when-let ((overlay (plist-get enclave-lsp--suggestion :overlay)))
    (delete-overlay overlay))
  (setq enclave-lsp--suggestion nil enclave-lsp--shown nil))

(defun enclave-lsp--show (start end text &optional item from reported)
  "Show TEXT, which is to replace START..END around point; nil if it does not fit.
ITEM: the server's item it is the rest of, after its first FROM characters
\(default: TEXT is the item's text); REPORTED: characters of it reported accepted."
  (enclave-lsp--clear)
  (let* ((here (point))
         (typed (and (<= (line-beginning-position) start here end (line-end-position))
                     (buffer-substring-no-properties start here)))
         (display (and typed (string-prefix-p typed text) (substring text (length typed)))))
    (when (and display (not (equal display "")))
      (let ((overlay (make-overlay here here))
            (ghost (propertize display 'face 'enclave-lsp-suggestion)))
        (put-text-property 0 1 'cursor t ghost)  ; the cursor stays before the ghost text
        (overlay-put overlay 'after-string ghost)
        (add-hook 'post-command-hook #'enclave-lsp--post-command nil t) ; also without the mode
        (setq enclave-lsp--shown t
              enclave-lsp--suggestion (list :start start :end end :text text :point here
                                            :display display :overlay overlay
                                            :item item
                                            :from (or from (length typed))
                                            :reported (or reported 0)))))))

(defun enclave-lsp--show-item (item)
  "Show the inlineCompletion ITEM if it fits at point; non-nil if shown."
  (let ((text (lsp-get item :insertText))
        (range (lsp-get item :range)))
    (unless (stringp text)              ; a snippet: its raw text
      (setq text (and text (lsp-get text :value))))
    (and (stringp text)
         (enclave-lsp--show
          (if range (enclave-lsp--point (lsp-get range :start)) (point))
          (if range (enclave-lsp--point (lsp-get range :end)) (point))
          text item))))

(defun enclave-lsp--show-from (items index step &optional other-than)
  "Show the first item of ITEMS that fits, from INDEX in direction STEP (1, -1).
It wraps around.  With OTHER-THAN, the first whose ghost text differs from it,
else the first that fits.  The suggestion keeps ITEMS and its index."
  (let ((n (length items)) first chosen)
    (cl-loop for k below n
             for i = (mod (+ index (* k step)) n)
             when (enclave-lsp--show-item (nth i items))
             do (unless first (setq first i))
             and when (not (equal (plist-get enclave-lsp--suggestion :display) other-than))
             return (setq chosen i))
    (when (and (null chosen) first (enclave-lsp--show-item (nth first items)))
      (setq chosen first))
    (if chosen
        (setq enclave-lsp--suggestion
              (plist-put (plist-put enclave-lsp--suggestion :items items) :index chosen))
      (enclave-lsp--clear))))

(defun enclave-lsp--show-answer (result &optional step other-than)
  "Show the first item of the inlineCompletion RESULT that fits at point.
With STEP (after `enclave-lsp-next' or `enclave-lsp-previous'), the first in
that direction whose ghost text differs from OTHER-THAN."
  (let ((items (append (if (vectorp result) result (and result (lsp-get result :items))) nil)))
    (if (null items)
        (enclave-lsp--clear)
      (enclave-lsp--show-from items (if (and step (< step 0)) (1- (length items)) 0)
                              (or step 1) other-than))))

(defun enclave-lsp-suggest (&optional automatic step)
  "Ask Enclave for a suggestion at point and show it (AUTOMATIC: while typing).
STEP: asked by `enclave-lsp-next' (1) or `enclave-lsp-previous' (-1)."
  (interactive)
  (when-let ((workspace (enclave-lsp--workspace)))
    (let ((at (point))
          (tick (buffer-chars-modified-tick))
          (shown (plist-get enclave-lsp--suggestion :display)))
      (with-lsp-workspace workspace
        (lsp-request-async
         "textDocument/inlineCompletion"
         (list :textDocument (lsp--text-document-identifier)
               :position (enclave-lsp--position at)
               :context (list :triggerKind (if automatic 2 1)))
         (lambda (result)
           (when (and (= (point) at) (= tick (buffer-chars-modified-tick)))
             (enclave-lsp--show-answer result step shown)))
         :mode 'tick                    ; a change cancels it; latest wins
         :error-handler #'ignore
         :cancel-token (enclave-lsp--token))))))

(defun enclave-lsp--on-idle (buffer)
  (when (and (buffer-live-p buffer) (eq buffer (window-buffer (selected-window))))
    (with-current-buffer buffer
      (setq enclave-lsp--timer nil)
      (when enclave-lsp-ghost-mode (enclave-lsp-suggest t)))))

(defun enclave-lsp--schedule ()
  (when enclave-lsp--timer (cancel-timer enclave-lsp--timer))
  (setq enclave-lsp--timer (run-with-idle-timer enclave-lsp-idle-delay nil
                                                #'enclave-lsp--on-idle (current-buffer))))

(defun enclave-lsp-dismiss ()
  "Hide the suggestion; stop asking for one."
  (interactive)
  (when enclave-lsp--timer
    (cancel-timer enclave-lsp--timer)
    (setq enclave-lsp--timer nil))
  (lsp-cancel-request-by-token (enclave-lsp--token))
  (enclave-lsp--clear))

(defun enclave-lsp--cycle (step)
  "Show the next (STEP 1) or previous (-1) item of the answer shown.
With one item or none, ask now (an invoked request: the server adds its
alternatives) and show the first that differs from the one shown."
  (let* ((s enclave-lsp--suggestion)
         (items (plist-get s :items)))
    (if (and s (cdr items))
        (enclave-lsp--show-from items (+ (plist-get s :index) step) step (plist-get s :display))
      (enclave-lsp-suggest nil step))))

(defun enclave-lsp-next ()
  "Show Enclave's next suggestion here (asking for one when none is shown)."
  (interactive)
  (enclave-lsp--cycle 1))

(defun enclave-lsp-previous ()
  "Show Enclave's previous suggestion here (asking for one when none is shown)."
  (interactive)
  (enclave-lsp--cycle -1))

(defun enclave-lsp--suggestion ()
  (or enclave-lsp--suggestion (user-error "Enclave: no suggestion here")))

(defun enclave-lsp--send-accepted (command &optional chars)
  "Run an item's COMMAND (enclave.lsp.accepted) on Enclave, with CHARS.
CHARS (acceptedChars): the total now taken from the item, in characters
\(code points, as the server counts); nil: all of it.  Asynchronous:
accepting never waits."
  (let ((argument (ignore-errors (aref (lsp-get command :arguments) 0)))
        (workspace (enclave-lsp--workspace)))
    (when (and argument workspace)
      (with-lsp-workspace workspace
        (lsp-request-async
         "workspace/executeCommand"
         (list :command (lsp-get command :command)
               :arguments (vector (if chars
                                      (lsp-put (lsp-copy argument) :acceptedChars chars)
                                    argument)))
         #'ignore
         :mode 'detached
         :error-handler (lambda (err)
                          (lsp-log "Enclave: acceptance not counted: %s"
                                   (lsp-get err :message))))))))

(defun enclave-lsp--report (suggestion &optional chars)
  "Tell Enclave the user accepted SUGGESTION's item: all of it, or its first CHARS.
Nothing when the item has no command (statistics off), nor for a total
already reported."
  (when-let ((command (and (plist-get suggestion :item)
                           (lsp-get (plist-get suggestion :item) :command))))
    (when (or (null chars) (> chars (plist-get suggestion :reported)))
      (enclave-lsp--send-accepted command chars))))

(defun enclave-lsp-accept ()
  "Insert the whole suggestion."
  (interactive)
  (let ((s (enclave-lsp--suggestion)))
    (enclave-lsp-dismiss)
    (delete-region (plist-get s :start) (plist-get s :end))
    (goto-char (plist-get s :start))
    (insert (plist-get s :text))
    (enclave-lsp--report s)))

(defun enclave-lsp--accept-part (regexp)
  "Insert the start of the suggestion that REGEXP matches; keep showing the rest."
  (let* ((s (enclave-lsp--suggestion))
         (display (plist-get s :display))
         (part (and (= (plist-get s :end) (point)) (string-match regexp display)
                    (match-end 0))))
    (if (or (not part) (= part (length display)))
        (enclave-lsp-accept)
      (let ((taken (+ (plist-get s :from) part)))
        (enclave-lsp-dismiss)
        (insert (substring display 0 part))
        (enclave-lsp--report s taken)
        (enclave-lsp--show (point) (point) (substring display part)
                           (plist-get s :item) taken (max taken (plist-get s :reported)))))))

(defun enclave-lsp-accept-word ()
  "Insert the suggestion up to the end of its next word."
  (interactive)
  (enclave-lsp--accept-part "\\`[^[:alnum:]_]*[[:alnum:]_]+"))

(defun enclave-lsp-accept-line ()
  "Insert the suggestion up to the end of its next line."
  (interactive)
  (enclave-lsp--accept-part "\\`\n*[^\n]*"))

(defun enclave-lsp--typed-through ()
  "After typing what the suggestion showed, show the rest at once; non-nil if so."
  (when-let ((s enclave-lsp--suggestion))
    (let* ((from (plist-get s :point))
           (display (plist-get s :display))
           (n (- (point) from)))
      (and (< 0 n (length display))
           (= (plist-get s :end) from)
           (equal (buffer-substring-no-properties from (point)) (substring display 0 n))
           (enclave-lsp--show (point) (point) (substring display n)
                              (plist-get s :item) (+ (plist-get s :from) n)
                              (plist-get s :reported))))))

(defun enclave-lsp--post-command ()
  (let ((changed (not (eql enclave-lsp--tick (buffer-chars-modified-tick)))))
    (setq enclave-lsp--tick (buffer-chars-modified-tick))
    (cond
     ((and (memq this-command '(enclave-lsp-accept-word enclave-lsp-accept-line))
           enclave-lsp--suggestion))    ; the rest is shown
     (changed
      (unless (enclave-lsp--typed-through) (enclave-lsp--clear))
      (when enclave-lsp-ghost-mode (enclave-lsp--schedule)))
     ((and enclave-lsp--suggestion (/= (point) (plist-get enclave-lsp--suggestion :point)))
      (enclave-lsp-dismiss)))))

(define-minor-mode enclave-lsp-ghost-mode
  "Show Enclave's suggestion after point when typing pauses.
While it is shown, `enclave-lsp-suggestion-map' is active."
  :lighter nil
  (if enclave-lsp-ghost-mode
      (progn
        (setq enclave-lsp--tick (buffer-chars-modified-tick))
        (add-hook 'post-command-hook #'enclave-lsp--post-command nil t))
    (remove-hook 'post-command-hook #'enclave-lsp--post-command t)
    (enclave-lsp-dismiss)))

;; -- the client --------------------------------------------------------------------------------

(defun enclave-lsp--connection ()
  "lsp-mode's stdio connection, started as `enclave--command' and
`enclave--call-with-user-environment' say."
  (let* ((stdio (lsp-stdio-connection #'enclave--command #'enclave--program))
         (connect (plist-get stdio :connect)))
    (plist-put stdio :connect
               (lambda (&rest args)
                 (apply #'enclave--call-with-user-environment connect args)))))

(defun enclave-lsp--initialization-options ()
  "The global `enclave-settings' (lsp-mode calls this in the buffer it connects)."
  (or (default-value 'enclave-settings) (make-hash-table)))

(defun enclave-lsp--initialized (workspace)
  "Keep lsp-mode's completion from waiting for the model, unless asked to."
  (unless enclave-lsp-completion-list
    (lsp-put (lsp--workspace-server-capabilities workspace) :completionProvider nil)))

(defun enclave-lsp--after-open ()
  (add-hook 'before-change-functions #'enclave-lsp--note-change nil t)
  (when enclave-lsp-ghost-text (enclave-lsp-ghost-mode 1)))

(defun enclave-lsp--on-status (_workspace status)
  "Keep the STATUS in `enclave-lsp-status'; say when its state changes."
  (let ((state (lsp-get status :state))
        (message (lsp-get status :message)))
    (unless (equal state (and enclave-lsp-status (lsp-get enclave-lsp-status :state)))
      (when (member state '("ready" "error"))
        (lsp--info "Enclave: %s%s" state (if (member message (list nil "" state)) ""
                                           (format " (%s)" message)))))
    (setq enclave-lsp-status status)))

(lsp-register-client
 (make-lsp-client
  :new-connection (enclave-lsp--connection)
  :major-modes enclave-major-modes
  :add-on? t
  :server-id 'enclave
  :initialization-options #'enclave-lsp--initialization-options
  :initialized-fn #'enclave-lsp--initialized
  :after-open-fn #'enclave-lsp--after-open
  :notification-handlers (ht ("enclave/status" #'enclave-lsp--on-status))
  ;; lsp-mode runs a chosen completion item's command (`enclave-lsp-completion-list'); one
  ;; without a handler it sends to every server of the buffer, the other one too: this
  ;; handler sends it to Enclave alone.
  :action-handlers (ht ("enclave.lsp.accepted" #'enclave-lsp--send-accepted)
                       ("enclave.lsp.explain" #'enclave-lsp--run-command)
                       ("enclave.lsp.refactor" #'enclave-lsp--run-command)
                       ("enclave.lsp.review" #'enclave-lsp--run-command)
                       ("enclave.lsp.rewrite" #'enclave-lsp--run-command))))

(provide 'enclave-lsp-mode)
;;; enclave-lsp-mode.el ends here
