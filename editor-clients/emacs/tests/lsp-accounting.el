;;; lsp-accounting.el --- what the ghost text reports when accepted, without a server  -*- lexical-binding: t; -*-

;; ENCLAVE_TEST_CASES: a file holding a JSON list of cases {"text": suggestion, "keys": [key...]}, a key
;; being "M-f", "C-e", "TAB" or "type" (type the next character shown).  Each case shows the
;; suggestion after "x = " in a fundamental-mode buffer and presses the keys through the
;; command loop; what `enclave-lsp--send-accepted' would send is recorded (a number:
;; acceptedChars, null: all of it), with the text inserted after "x = " at each send, and
;; how many accept keys were pressed while a suggestion was shown.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-accounting-case (case)
  (let* ((text (alist-get 'text case))
         (item (ht ("insertText" text)
                   ("command" (ht ("command" "enclave.lsp.accepted")
                                  ("arguments" (vector (ht ("id" "1") ("uri" "file:///x"))))))))
         (sends nil)
         (presses 0))
    (with-current-buffer (get-buffer-create "*accounting*")
      (switch-to-buffer (current-buffer))
      (fundamental-mode)
      (erase-buffer)
      (insert "x = ")
      (cl-letf (((symbol-function 'enclave-lsp--send-accepted)
                 (lambda (_command &optional chars)
                   (push `(("chars" . ,chars)
                           ("inserted" . ,(buffer-substring-no-properties 5 (point))))
                         sends))))
        (enclave-lsp--show (point) (point) text item)
        (setq enclave-lsp--tick (buffer-chars-modified-tick))
        (add-hook 'post-command-hook #'enclave-lsp--post-command nil t)
        (dolist (key (append (alist-get 'keys case) nil))
          (when enclave-lsp--suggestion
            (if (not (equal key "type"))
                (progn (cl-incf presses) (enclave-test-keys key))
              (let ((next (aref (plist-get enclave-lsp--suggestion :display) 0)))
                (unless (eq next ?\n)
                  (execute-kbd-macro (vector next))))))))
      `(("sends" . ,(vconcat (reverse sends)))
        ("final" . ,(buffer-substring-no-properties 5 (point-max)))
        ("accept_presses" . ,presses)))))

(enclave-test-run
 (lambda ()
   (load (enclave-test-env "ENCLAVE_EMACS_CONFIG") nil t)
   (let ((cases (with-temp-buffer
                  (insert-file-contents (enclave-test-env "ENCLAVE_TEST_CASES"))
                  (json-parse-buffer :object-type 'alist :array-type 'list))))
     (enclave-test-put "results" (vconcat (mapcar #'enclave-test-accounting-case cases))))))

;;; lsp-accounting.el ends here
