;;; lsp-ghost.el --- ghost text beside another server in lsp-mode (fake engine)  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers every request with the same block.  The file
;; opens as "def sign(x):\n"; point goes to the end of that line and the user presses RET.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-observe (key)
  "Record under KEY the line, the ghost text and what TAB and C-g run now."
  (enclave-test-put key `(("line" . ,(enclave-test-line))
                          ("ghost" . ,(enclave-test-ghost))
                          ("tab" . ,(symbol-name (key-binding (kbd "TAB"))))
                          ("c_g" . ,(symbol-name (key-binding (kbd "C-g")))))))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (enclave-test-put "ghost_mode" (if enclave-lsp-ghost-mode t :json-false))
   (enclave-test-put "enclave_completion_provider"
                     (if (lsp-get (lsp--workspace-server-capabilities (enclave-lsp--workspace))
                                  :completionProvider)
                         t :json-false))

   ;; The other server answers hover (M-x lsp-describe-thing-at-point on `sign').
   (enclave-test-goto "def si")
   (lsp-describe-thing-at-point)
   (enclave-test-put "hover" (with-current-buffer "*lsp-help*" (buffer-string)))

   ;; RET at the end of the def line: python-mode indents, the pause asks Enclave.
   (enclave-test-goto "def sign(x):")
   (enclave-test-observe "before")
   (enclave-test-keys "RET")
   (enclave-test-wait-ghost "the suggestion after RET")
   (enclave-test-observe "shown")

   ;; Typing what it shows keeps the rest shown at once (no answer waited for)...
   (enclave-test-keys "if")
   (enclave-test-observe "typed_through")
   ;; ...and the next answer (typed through on the server too) replaces it.
   (enclave-test-wait-answer "the answer after typing" 30)
   (enclave-test-observe "answer_after_typing")

   ;; Each accept tells Enclave (its answer awaited here, then its figures recorded).
   (enclave-test-keys "M-f")
   (enclave-test-observe "after_word")
   (enclave-test-wait-accepts 1 "the word's acceptance counted")
   (enclave-test-put "stats_after_word" (enclave-test-session-stats))
   (enclave-test-keys "C-e")
   (enclave-test-observe "after_line")
   (enclave-test-wait-accepts 2 "the line's acceptance counted")
   (enclave-test-put "stats_after_line" (enclave-test-session-stats))
   (enclave-test-keys "C-e")
   (enclave-test-observe "after_second_line")
   (enclave-test-wait-accepts 3 "the second line's acceptance counted")
   (enclave-test-put "stats_after_second_line" (enclave-test-session-stats))
   (enclave-test-keys "TAB")
   (enclave-test-observe "after_accept")
   (enclave-test-wait-accepts 4 "the rest's acceptance counted")
   (enclave-test-put "stats_after_accept" (enclave-test-session-stats))
   (enclave-test-put "buffer_after_accept" (buffer-string))
   (enclave-test-put "point_after_accept" (vector (line-number-at-pos) (current-column)))
   (enclave-test-wait-synced "Enclave has the accepted text")
   (enclave-test-put "document_after_accept" (enclave-test-document-state))

   ;; C-g dismisses a suggestion (M-x enclave-lsp-suggest asks for one at point).
   (goto-char (point-max))
   (insert "\ndef sign2(x):\n    ")
   (enclave-lsp-suggest)
   (enclave-test-wait-ghost "a suggestion asked for")
   (enclave-test-observe "asked")
   (command-execute (key-binding (kbd "C-g")))
   (enclave-test-observe "after_c_g")
   ;; Moving away dismisses it.
   (enclave-lsp-suggest)
   (enclave-test-wait-ghost "a suggestion asked for again")
   (enclave-test-keys "C-b")
   (enclave-test-observe "after_moving")
   ;; With the mode off, typing asks nothing, M-x enclave-lsp-suggest still works and moving
   ;; away still dismisses.
   (enclave-lsp-ghost-mode -1)
   (enclave-test-keys "C-e x DEL")
   (enclave-test-put "mode_off_timer" (if enclave-lsp--timer t :json-false))
   (enclave-lsp-suggest)
   (enclave-test-wait-ghost "a suggestion asked for with the mode off")
   (enclave-test-observe "mode_off_asked")
   (enclave-test-keys "C-b")
   (enclave-test-observe "mode_off_after_moving")
   (enclave-lsp-ghost-mode 1)

   ;; The other server's completion, without waiting for the model: Enclave is not asked.
   (goto-char (point-max))
   (enclave-test-keys "RET o t h")
   (enclave-lsp-dismiss)
   (completion-at-point)
   (enclave-test-put "completed_line" (enclave-test-line))

   ;; A character outside the BMP (two UTF-16 units, one Emacs character) before the edits
   ;; and the cursor: Enclave's copy stays the buffer's text, the prompt ends at point.
   (enclave-test-keys "RET")
   (insert "s = \"\U0001F600\"")
   (enclave-test-keys "SPC + SPC a b c DEL")
   (enclave-test-put "wide_line" (enclave-test-line))
   (enclave-test-wait-synced "Enclave has the text after the wide character")
   (enclave-test-put "document_after_wide" (enclave-test-document-state))
   (enclave-lsp-suggest)
   (enclave-test-wait-answer "the answer after the wide character" 30)
   (enclave-test-put "status" (enclave-lsp-status))

   ;; A suggestion accepted whole at once (TAB), then M-x enclave-lsp-stats.
   (enclave-lsp-dismiss)
   (goto-char (point-max))
   (insert "\n\ndef sign3(x):\n    ")
   (enclave-test-keys "C-e")            ; the command loop sees the change, as after typing
   (enclave-lsp-suggest)
   (enclave-test-wait-ghost "a suggestion to accept whole")
   (enclave-test-observe "whole_shown")
   (enclave-test-keys "TAB")
   (enclave-test-observe "after_whole")
   (enclave-test-wait-accepts 5 "the whole acceptance counted")
   ;; Nothing else arrives later: one more request round-trip, then the final figures.
   (enclave-test-wait-synced "Enclave has the accepted text")
   (enclave-test-put "stats_at_end" (enclave-test-session-stats))
   (call-interactively #'enclave-lsp-stats)
   (enclave-test-put "stats_buffer" (with-current-buffer "*Enclave statistics*"
                                      (buffer-string)))))

;;; lsp-ghost.el ends here
