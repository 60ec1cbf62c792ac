;;; common.el --- shared by the batch test scripts of both clients  -*- lexical-binding: t; -*-

;; Loaded by runner.el (Eglot) and lsp-runner.el (lsp-mode).  Environment:
;;   ENCLAVE_TEST_OUT      where the observations are written (JSON)
;; A script calls `enclave-test-run' with its body; the body records observations with
;; `enclave-test-put'; an error is recorded and Emacs exits with code 1.  The assertions are
;; in tests/editors/test_emacs*.py.

;;; Code:

(require 'cl-lib)
(require 'json)

(defvar enclave-test-results nil "Observations, an alist (KEY . VALUE).")

(defvar enclave-test-steps nil "Waits done, as vectors [WHAT SECONDS], newest first.")

(defun enclave-test-env (name &optional default)
  "The test's variable NAME (DEFAULT when unset), whatever buffer is current.
\(A buffer's own `process-environment', from .dir-locals.el, would hide it.)"
  (let ((value (with-temp-buffer (getenv name))))
    (if (and value (not (equal value ""))) value
      (or default (error "%s is not set" name)))))

(defun enclave-test-put (key value)
  (setq enclave-test-results (cons (cons key value) (assoc-delete-all key enclave-test-results))))

(defun enclave-test-finish (code)
  (let ((json-encoding-pretty-print nil))
    (with-temp-file (enclave-test-env "ENCLAVE_TEST_OUT")
      (insert (json-encode
               `(("steps" . ,(vconcat (reverse enclave-test-steps)))
                 ,@(reverse enclave-test-results))))))
  (kill-emacs code))

(defun enclave-test-idle ()
  "Run the idle timers, as Emacs does when the user pauses.
A batch Emacs never waits for input, so it never runs them by itself;
Eglot sends its didChange and Flymake starts its checks from them."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list)
      (timer-event-handler timer))))

(defun enclave-test-wait (what timeout predicate)
  "Let Emacs run until PREDICATE returns non-nil; return that.
Process output and timers run, idle timers every 0.3 s.  Signal an error
naming WHAT after TIMEOUT seconds."
  (let ((start (float-time)) (idle (float-time)) value)
    (while (not (setq value (funcall predicate)))
      (when (> (- (float-time) start) timeout)
        (error "Timed out after %s s waiting for %s" timeout what))
      (accept-process-output nil 0.05)
      (when (> (- (float-time) idle) 0.3)
        (setq idle (float-time))
        (enclave-test-idle)))
    (push (vector what (- (float-time) start)) enclave-test-steps)
    value))

(defun enclave-test-choose (title thunk)
  "Call THUNK, answering any `completing-read' with TITLE and yes to questions.
As a user would; the questions asked are recorded under \"questions\", the last
menu's entries under \"choices\"."
  (cl-letf* ((questions nil)
             (last-nonmenu-event ?\r)  ; keyboard, not mouse: no popup menu
             ((symbol-function 'completing-read)
              (lambda (prompt collection &rest _)
                (push prompt questions)
                (let ((names (mapcar (lambda (c) (if (consp c) (car c) c)) collection)))
                  (enclave-test-put "choices" (vconcat names))
                  (unless (member title names)
                    (error "%S is not among the choices %S" title names)))
                title))
             ((symbol-function 'y-or-n-p) (lambda (prompt) (push prompt questions) t))
             ((symbol-function 'yes-or-no-p) (lambda (prompt) (push prompt questions) t)))
    (prog1 (funcall thunk)
      (enclave-test-put "questions" (vconcat (reverse questions))))))

(defun enclave-test-environ (process)
  "The environment PROCESS runs with (from /proc), a vector of VAR=VALUE."
  (with-temp-buffer
    (insert-file-contents-literally (format "/proc/%d/environ" (process-id process)))
    (vconcat (split-string (buffer-string) "\0" t))))

(defun enclave-test-put-locals ()
  "Record the buffer-local values a repository's .dir-locals.el may set."
  (pcase-dolist (`(,key . ,var) '(("local_command" . enclave-command)
                                   ("local_exec_path" . exec-path)
                                   ("local_environment" . process-environment)))
    (enclave-test-put key (and (local-variable-p var) (vconcat (symbol-value var)))))
  (enclave-test-put "local_settings" (and (local-variable-p 'enclave-settings)
                                          (format "%S" enclave-settings))))

(defun enclave-test-goto (regexp)
  "Move point to the end of the first match of REGEXP."
  (goto-char (point-min))
  (re-search-forward regexp)
  (point))

(defvar enclave-test-cleanup #'ignore
  "Called with no argument at the end of a run, failed or not, to save logs and stop servers.")

(defun enclave-test-run (body)
  "Run BODY (a function); write the observations; exit 0, or 1 on an error."
  (condition-case err
      (progn
        (funcall body)
        (funcall enclave-test-cleanup)
        (enclave-test-finish 0))
    (error
     (enclave-test-put "error" (error-message-string err))
     (ignore-errors (funcall enclave-test-cleanup))
     (enclave-test-finish 1))))

;;; common.el ends here
