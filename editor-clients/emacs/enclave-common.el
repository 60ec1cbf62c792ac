;;; enclave-common.el --- what enclave-eglot.el and enclave-lsp-mode.el share  -*- lexical-binding: t; -*-

;; Loaded by either configuration from its own folder; not meant to be loaded alone.
;; The user-only options and how the server is started: from their global values only, so
;; that a repository's .dir-locals.el cannot choose what runs, its environment or its settings.

;;; Code:

(require 'cl-lib)

(defgroup enclave nil
  "Enclave, a code assistant with a local model."
  :group 'tools
  :prefix "enclave-")

(defcustom enclave-command '("enclave" "serve")
  "Command starting the Enclave language server on stdio.
Give the full path (to .venv/bin/enclave) if `enclave' is not on `exec-path'.
Only the global values of this, `exec-path' and `process-environment' count:
a repository's .dir-locals.el cannot choose what runs, nor its environment."
  :type '(repeat string))
(put 'enclave-command 'risky-local-variable t)

(defcustom enclave-settings nil
  "Enclave settings sent as initializationOptions.
A plist such as (:model (:size \"0.5b\")), lists of values as vectors; nil:
the server's defaults.  The settings that decide where code goes, which
model file is read and where logs and saved states are written
\(backend.kind, backend.url, backend.model, backend.allowHosts, model.path,
model.stateCacheOnDisk, log.file) belong here and only here: the server
takes them from initializationOptions alone.  Only the global value
counts: a buffer-local one (from .dir-locals.el, say) is never sent.
A change takes effect when the server starts again."
  :type 'sexp)
(put 'enclave-settings 'risky-local-variable t)

(defcustom enclave-major-modes '(python-mode python-ts-mode)
  "Major modes whose buffers Enclave serves (read when the configuration loads)."
  :type '(repeat symbol))

(defcustom enclave-request-timeout 300
  "Seconds to wait for the model in review, explain, rewrite and refactors.
The LSP clients' own requests give up after 10 s."
  :type 'integer)

(defun enclave--program ()
  "The program of the global `enclave-command' on the global `exec-path', or nil."
  (let ((exec-path (default-value 'exec-path)))
    (executable-find (car (default-value 'enclave-command)))))

(defun enclave--command ()
  "The global `enclave-command' with its program found on the global `exec-path'.
An error when it is found on none: never a program of the buffer's `exec-path'."
  (cons (or (enclave--program)
            (user-error "Enclave: %s is not on your exec-path"
                        (car (default-value 'enclave-command))))
        (cdr (default-value 'enclave-command))))

(defun enclave--call-with-user-environment (function &rest args)
  "Call FUNCTION with ARGS under the global `process-environment' and `exec-path'.
Clients start servers from the buffer being connected, where a repository's
.dir-locals.el may have set them (PATH, PYTHONPATH, LD_PRELOAD, ...)."
  (let ((process-environment (default-value 'process-environment))
        (exec-path (default-value 'exec-path)))
    (apply function args)))

(defun enclave--show-explanation (markdown)
  "Show MARKDOWN in the buffer *Enclave explanation*; return that buffer."
  (let ((buffer (get-buffer-create "*Enclave explanation*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert markdown))
      (if (fboundp 'gfm-view-mode) (gfm-view-mode) (text-mode))
      (goto-char (point-min))
      (setq buffer-read-only t))
    (display-buffer buffer)
    buffer))

;; -- local statistics (enclave/getStatus "stats") -------------------------------------------

(defun enclave--percent (rate)
  (if (numberp rate) (format "%.1f%%" (* 100 rate)) "-"))

(defun enclave--stats-lines (summary get pairs)
  "SUMMARY, one language's figures, as lines (those of `enclave stats').
GET reads a field of a JSON object, PAIRS lists an object as (NAME . VALUE)."
  (cl-flet ((f (key) (funcall get summary key)))
    (let ((empty (mapconcat (lambda (p) (format "%s %s" (car p) (cdr p)))
                            (funcall pairs (f :empty)) ", ")))
      (list (format "suggestions shown %s, accepted %s (%s)"
                    (f :shown) (f :accepted) (enclave--percent (f :acceptanceRate)))
            (format "characters suggested %s, accepted %s"
                    (f :charsSuggested) (f :charsAccepted))
            (if (f :p50Ms) (format "latency p50 %s ms, p90 %s ms" (f :p50Ms) (f :p90Ms))
              "latency -")
            (format "answered from the caches %s (typed through %s, prefetched %s, model %s)"
                    (enclave--percent (f :cacheShare))
                    (f :fromCache) (f :fromPrefetch) (f :fromModel))
            (format "empty answers: %s" (if (equal empty "") "none" empty))))))

(defun enclave--show-stats (stats get pairs)
  "Show STATS (enclave/getStatus \"stats\") in the buffer *Enclave statistics*.
GET reads a field of a JSON object, PAIRS lists an object as (NAME . VALUE)
pairs (Eglot and lsp-mode parse JSON differently).  Return the buffer."
  (let ((buffer (get-buffer-create "*Enclave statistics*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert "Enclave's local statistics of inline suggestions (never sent anywhere)\n")
        (unless (eq (funcall get stats :enabled) t)
          (insert "\nStatistics are off (stats.enabled: false).\n"))
        (let ((warning (funcall get stats :warning)))
          (unless (member warning '(nil ""))
            (insert "\n" warning "\n")))
        (pcase-dolist (`(,title . ,key) '(("This session" . :session)
                                          ("All time" . :allTime)))
          (insert "\n" title (if (eq key :allTime)
                                  (format " (%s)" (funcall get stats :file))
                                "")
                  ":\n")
          (let ((languages (funcall pairs (funcall get stats key))))
            (unless languages (insert "  nothing yet\n"))
            (pcase-dolist (`(,language . ,summary) languages)
              (insert "  " language "\n")
              (dolist (line (enclave--stats-lines summary get pairs))
                (insert "    " line "\n"))))))
      (special-mode)
      (goto-char (point-min)))
    (display-buffer buffer)
    buffer))

(provide 'enclave-common)
;;; enclave-common.el ends here
