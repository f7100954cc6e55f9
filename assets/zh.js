// Streamlit's own words that no API lets us set, in Chinese: the accessible names
// of its buttons (the selectbox's "Open"/"Close", "Clear all"…), input placeholders
// it fills in by itself ("Choose an option"), the "Skip to main content" link and
// the "No results" of a selectbox being typed into. Only these exact strings are
// replaced, and only in Streamlit's own widgets: data values are never touched.
(function () {
  if (window.__jwZh) return;
  window.__jwZh = true;
  var WORDS = {
    "Open": "展开",
    "Close": "收起",
    "Clear all": "全部清除",
    "Clear value": "清除",
    "Delete": "删除",
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "Skip to main content": "跳到正文",
    "No results": "无匹配项",
    "Selectbox options": "选项",
    "Press Enter to apply": "按回车键应用"
  };
  var ATTRS = ["aria-label", "title", "placeholder"];
  var OWN = '[data-testid="stSelectbox"], [data-testid="stMultiSelect"], [data-baseweb="popover"], ' +
    '[data-testid="stSkipToContent"], [data-testid="stTextInput"], [data-testid="InputInstructions"]';
  function fixElement(el) {
    if (!el.closest || !el.closest(OWN)) return;
    for (var i = 0; i < ATTRS.length; i++) {
      var v = el.getAttribute(ATTRS[i]);
      if (v && Object.prototype.hasOwnProperty.call(WORDS, v)) el.setAttribute(ATTRS[i], WORDS[v]);
    }
  }
  function fixText(node) {
    var t = node.nodeValue && node.nodeValue.trim();
    if (t && Object.prototype.hasOwnProperty.call(WORDS, t) && node.parentElement && node.parentElement.closest(OWN)) {
      node.nodeValue = WORDS[t];
    }
  }
  function fixTree(root) {
    if (root.nodeType === 3) { fixText(root); return; }
    if (root.nodeType !== 1) return;
    fixElement(root);
    var els = root.querySelectorAll("[aria-label], [title], [placeholder]");
    for (var i = 0; i < els.length; i++) fixElement(els[i]);
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var n = walker.nextNode(); n; n = walker.nextNode()) fixText(n);
  }
  fixTree(document.body);
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var r = records[i];
      if (r.type === "attributes") fixElement(r.target);
      else if (r.type === "characterData") fixText(r.target);
      else for (var j = 0; j < r.addedNodes.length; j++) fixTree(r.addedNodes[j]);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS });
})();
