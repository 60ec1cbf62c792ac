;;; lsp-sync.el --- Enclave's copy follows any edits, wide characters and CRs included  -*- lexical-binding: t; -*-

;; ENCLAVE_TEST_EDITS: a JSON file, a list of edits [WHERE DELETE TEXT]: at WHERE (0..1, a
;; share of the buffer's size) delete DELETE characters, then insert TEXT.  After every
;; ENCLAVE_TEST_EVERY edits, Enclave's copy is compared with the buffer (lsp-mode sends each
;; change at once, so no wait is needed).

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (let ((edits (with-temp-buffer
                  (insert-file-contents (enclave-test-env "ENCLAVE_TEST_EDITS"))
                  (json-parse-buffer :array-type 'list)))
         (every (string-to-number (enclave-test-env "ENCLAVE_TEST_EVERY")))
         (checks nil)
         (i 0))
     (dolist (edit edits)
       (let* ((where (+ (point-min) (floor (* (nth 0 edit) (- (point-max) (point-min))))))
              (to (min (point-max) (+ where (nth 1 edit)))))
         (goto-char where)
         (delete-region where to)
         (insert (nth 2 edit)))
       (cl-incf i)
       (when (or (zerop (% i every)) (= i (length edits)))
         (let ((state (enclave-test-document-state)))
           (push `(("edits" . ,i)
                   ("same" . ,(if (equal (cdr (assoc "server_sha256" state))
                                         (cdr (assoc "buffer_sha256" state)))
                                  t :json-false))
                   ("desynced" . ,(cdr (assoc "desynced" state))))
                 checks))))
     (enclave-test-put "checks" (vconcat (reverse checks)))
     (enclave-test-put "buffer" (buffer-string)))))

;;; lsp-sync.el ends here
