package graft.picture;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One self-contained HTML page: the SVG inline, a side panel with the clicked layer's row, and a few lines of
 * script for pan (drag) and zoom (wheel) that change the SVG's viewBox. No network, no library. Opening the page
 * with {@code #click=LAYER} selects that layer as a click would (links, tests).
 */
public final class Html {
    private Html() {
    }

    public static String page(GraphLayout.Result r, String title, String legend) {
        Map<String, Object> rows = new LinkedHashMap<>();
        r.boxes().forEach(p -> rows.put(p.box().key(), p.box().details()));
        String json;
        try {
            json = new ObjectMapper().writeValueAsString(rows);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        // inside <script> only "</" could end the element early: JSON strings may spell '<' as \u003c
        json = json.replace("<", "\\u003c");
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + Svg.esc(title) + "</title>\n"
                + "<style>\n"
                + "html,body{margin:0;height:100%;font-family:sans-serif;}\n"
                + "#wrap{display:flex;height:100%;}\n"
                + "#view{flex:1;overflow:hidden;cursor:grab;background:#fff;}\n"
                + "#view svg{width:100%;height:100%;display:block;}\n"
                + "#panel{width:340px;border-left:1px solid #ccc;padding:10px;overflow:auto;background:#fafafa;font-size:13px;}\n"
                + "#panel h1{font-size:15px;margin:0 0 6px 0;}\n"
                + "#panel table{border-collapse:collapse;width:100%;}\n"
                + "#panel th{text-align:left;padding:2px 6px 2px 0;vertical-align:top;color:#555;font-weight:normal;}\n"
                + "#panel td{font-family:monospace;white-space:pre-wrap;word-break:break-all;}\n"
                + "g.box{cursor:pointer;} g.box.selected rect{stroke:#000;stroke-width:3;}\n"
                + ".legend span{display:inline-block;width:12px;height:12px;border:1px solid #555;margin:0 4px 0 8px;vertical-align:middle;}\n"
                + "</style>\n</head>\n<body>\n<div id=\"wrap\">\n<div id=\"view\">\n" + Svg.element(r, title)
                + "</div>\n<aside id=\"panel\">\n<h1>" + Svg.esc(title) + "</h1>\n<div class=\"legend\">" + legend + "</div>\n"
                + "<p id=\"hint\">Click a layer to see its row. Drag to pan, wheel to zoom, double-click to reset.</p>\n"
                + "<h1 id=\"selected\"></h1>\n<table id=\"row\"></table>\n</aside>\n</div>\n"
                + "<script type=\"application/json\" id=\"rows\">" + json + "</script>\n"
                + "<script>\n" + SCRIPT + "</script>\n</body>\n</html>\n";
    }

    /** The legend for a plain model picture and for a diff. */
    public static String legend(boolean diff) {
        StringBuilder b = new StringBuilder();
        if (diff) {
            for (LayerGraph.Status s : LayerGraph.Status.values()) {
                b.append("<span style=\"background:").append(Svg.COLOURS.get(s)[0]).append("\"></span>").append(s.key());
            }
            b.append("<br>thick outline: trainability or lr/decay changed");
        } else {
            b.append("<span style=\"background:").append(Svg.COLOURS.get(LayerGraph.Status.SAME)[0]).append("\"></span>trainable")
                    .append("<span style=\"background:").append(Svg.FROZEN[0]).append("\"></span>frozen");
        }
        return b.toString();
    }

    private static final String SCRIPT = String.join("\n",
            "(function () {",
            "  var rows = JSON.parse(document.getElementById('rows').textContent);",
            "  var view = document.getElementById('view');",
            "  var svg = view.querySelector('svg');",
            "  svg.removeAttribute('width'); svg.removeAttribute('height');",
            "  var vb = svg.viewBox.baseVal, home = [vb.x, vb.y, vb.width, vb.height];",
            "  function box(key) {",
            "    var all = svg.querySelectorAll('g.box');",
            "    for (var i = 0; i < all.length; i++) if (all[i].getAttribute('data-layer') === key) return all[i];",
            "    return null;",
            "  }",
            "  function show(key) {",
            "    var r = rows[key], t = document.getElementById('row');",
            "    if (!r) return;",
            "    t.innerHTML = ''; t.setAttribute('data-layer', key);",
            "    document.getElementById('selected').textContent = key;",
            "    Object.keys(r).forEach(function (k) {",
            "      var tr = document.createElement('tr'), th = document.createElement('th'), td = document.createElement('td');",
            "      th.textContent = k; td.setAttribute('data-field', k);",
            "      td.textContent = Array.isArray(r[k]) ? r[k].join('\\n') : String(r[k]);",
            "      tr.appendChild(th); tr.appendChild(td); t.appendChild(tr);",
            "    });",
            "    svg.querySelectorAll('g.box.selected').forEach(function (g) { g.classList.remove('selected'); });",
            "    var g = box(key); if (g) g.classList.add('selected');",
            "  }",
            "  var drag = null, moved = false;",
            "  function scale() { return svg.getScreenCTM().a; }",
            "  svg.addEventListener('mousedown', function (e) { drag = [e.clientX, e.clientY, vb.x, vb.y]; moved = false; });",
            "  window.addEventListener('mousemove', function (e) {",
            "    if (!drag) return;",
            "    var dx = e.clientX - drag[0], dy = e.clientY - drag[1];",
            "    if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;",
            "    vb.x = drag[2] - dx / scale(); vb.y = drag[3] - dy / scale();",
            "  });",
            "  window.addEventListener('mouseup', function () { drag = null; });",
            "  svg.addEventListener('wheel', function (e) {",
            "    e.preventDefault();",
            "    var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;",
            "    p = p.matrixTransform(svg.getScreenCTM().inverse());",
            "    var f = e.deltaY < 0 ? 0.85 : 1 / 0.85;",
            "    vb.x = p.x - (p.x - vb.x) * f; vb.y = p.y - (p.y - vb.y) * f; vb.width *= f; vb.height *= f;",
            "  }, {passive: false});",
            "  svg.addEventListener('dblclick', function () { vb.x = home[0]; vb.y = home[1]; vb.width = home[2]; vb.height = home[3]; });",
            "  svg.addEventListener('click', function (e) {",
            "    if (moved) { moved = false; return; }",
            "    var g = e.target.closest('g.box');",
            "    if (g) show(g.getAttribute('data-layer'));",
            "  });",
            "  function fromHash() {",
            "    var m = /^#click=(.*)$/.exec(location.hash);",
            "    if (!m) return;",
            "    var g = box(decodeURIComponent(m[1]));",
            "    if (g) g.dispatchEvent(new MouseEvent('click', {bubbles: true}));",
            "  }",
            "  window.addEventListener('hashchange', fromHash);",
            "  fromHash();",
            "})();",
            "");
}
