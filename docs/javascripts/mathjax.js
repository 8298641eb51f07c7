// MathJax settings for pymdownx.arithmatex (generic mode): it wraps math in
// \( \) and \[ \] inside elements of class "arithmatex"; typeset only those.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
