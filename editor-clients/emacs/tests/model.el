;;; model.el --- completion-at-point and review with the real model  -*- lexical-binding: t; -*-

;; The server with its default settings (the default model).  Completion goes through
;; `completion-at-point' (Eglot's capf, textDocument/completion); the review through
;; M-x enclave-review into Flymake.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (let ((completion-table nil))
     ;; Type a space after `return' in the first function, then M-x completion-at-point.
     (enclave-test-goto "^    return$")
     (insert " ")
     (let ((before (buffer-substring (line-beginning-position) (point)))
           (start (point)))
       ;; On a loaded machine the first answer can come back empty (the model had not
       ;; finished reading the prompt by completion.deadlineMs); a user presses again, and
       ;; the server reuses the prompt it read.  At most three presses.
       (let ((started (float-time)) (empty-reasons nil))
         (while (progn (enclave-test-complete)
                       (and (< (length enclave-test-completion-answers) 3)
                            (= 0 (length (plist-get (car enclave-test-completion-answers)
                                                    :items)))
                            (push (plist-get (enclave-status) :lastEmptyReason)
                                  empty-reasons))))
         (enclave-test-put "completion_seconds" (- (float-time) started))
         (enclave-test-put "empty_reasons" (vconcat (reverse empty-reasons))))
       (setq completion-table (car enclave-test-completion-answers))
       (enclave-test-put "completion_requests" (length enclave-test-completion-answers))
       (enclave-test-put "completion_answer" completion-table)
       (enclave-test-put "status_after_completion" (enclave-status))
       (enclave-test-put "line_before" before)
       (enclave-test-put "inserted" (buffer-substring start (point)))
       (enclave-test-put "buffer_after_completion" (buffer-string))))
   (enclave-test-wait-synced "the server has the completed text")
   (save-buffer)

   (enclave-test-review)

   ;; M-x enclave-code-actions on `average', choosing a refactor the model runs on resolve.
   (enclave-test-goto "^def average")
   (let ((before (buffer-string))
         (started (float-time)))
     (condition-case err
         (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_REFACTOR_TITLE")
                              (lambda () (call-interactively #'enclave-code-actions)))
       (user-error (enclave-test-put "refactor_error" (error-message-string err))))
     (enclave-test-put "refactor_seconds" (- (float-time) started))
     (enclave-test-put "refactor_changed_buffer" (if (equal before (buffer-string)) :json-false t))
     (enclave-test-put "buffer_after_refactor" (buffer-string)))
   (enclave-test-put "document" (enclave-test-document-state))
   (enclave-test-put "status" (enclave-status))))

;;; model.el ends here
