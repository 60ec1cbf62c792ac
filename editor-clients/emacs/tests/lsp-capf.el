;;; lsp-capf.el --- Enclave's item chosen in lsp-mode's completion-at-point  -*- lexical-binding: t; -*-

;; With `enclave-lsp-completion-list' on, lsp-mode merges both servers' items.  Enclave's is
;; chosen as a completion UI (Company, Corfu, completion-in-region) does: inserted, then the
;; table's exit function called with status `finished'.  The file has an empty, indented body.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(enclave-test-run
 (lambda ()
   (setq enclave-lsp-completion-list t)
   (enclave-test-connect)
   (enclave-lsp-ghost-mode -1)          ; only the completion list here
   (enclave-test-goto "^    $")
   (let* ((capf (lsp-completion-at-point))
          (start (nth 0 capf))
          (end (nth 1 capf))
          (table (nth 2 capf))
          (exit (plist-get (nthcdr 3 capf) :exit-function))
          (candidates (all-completions (buffer-substring start end) table))
          (ours (or (cl-find-if (lambda (c) (lsp-get (get-text-property 0 'lsp-completion-item c)
                                                     :command))
                                candidates)
                    (error "No Enclave item among %S" candidates))))
     (enclave-test-put "candidates" (vconcat (mapcar #'substring-no-properties candidates)))
     (delete-region start end)
     (insert ours)
     (funcall exit ours 'finished))
   (enclave-test-put "buffer" (buffer-string))
   (enclave-test-wait-accepts 1 "the acceptance answered")
   (enclave-test-wait-synced "Enclave has the text")
   (enclave-test-put "stats" (enclave-test-session-stats))))

;;; lsp-capf.el ends here
