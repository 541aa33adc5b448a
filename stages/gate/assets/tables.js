/* Offline stand-in for bootstrap-table in the Data Docs (the pages are built to open without a
   network). Great Expectations' index page passes its columns and rows to
   $(table).bootstrapTable({columns, data, rowAttributes}); this draws them as a plain Bootstrap
   table, in the order given, and fires the same row-click event the page listens for; a status
   cell also says its status in words, and a row's first cell links to the row's page. Commands
   (a string argument, such as 'resetSearch') have nothing to do here. */
(function ($) {
  "use strict";
  function named(value) {
    return typeof value === "string" ? window[value] : value;
  }
  $.fn.bootstrapTable = function (options) {
    if (typeof options !== "object" || options === null) {
      return this;
    }
    var settings = $.extend({}, options, arguments[1] || {});
    var rowAttributes = named(settings.rowAttributes);
    var rowStyle = named(settings.rowStyle);
    $(settings.toolbar).hide(); // its buttons clear filters that this table does not have
    return this.each(function () {
      var $table = $(this).addClass("table table-hover").empty();
      var $header = $("<tr>");
      settings.columns.forEach(function (column) {
        $header.append($("<th>").text(column.title || ""));
      });
      var $body = $("<tbody>");
      (settings.data || []).forEach(function (row, index) {
        var $row = $("<tr>");
        if (rowAttributes) {
          $row.attr(rowAttributes(row, index));
        }
        if (rowStyle) {
          $row.css((rowStyle(row, index) || {}).css || {});
        }
        settings.columns.forEach(function (column, n) {
          var value = row[column.field];
          var $cell = $("<td>").html(value === undefined || value === null ? "" : String(value));
          if (column.field === "validation_success" && row._validation_success_text) {
            $cell.append(document.createTextNode(" " + row._validation_success_text));
          }
          // The row opens its page on a click only: its first cell links there too, for the
          // keyboard and screen readers.
          if (n === 0 && row._table_row_link_path && $cell.find("a").length === 0) {
            $cell.wrapInner($("<a>").attr("href", row._table_row_link_path));
          }
          $row.append($cell);
        });
        $row.on("click", function () {
          $table.trigger("click-row.bs.table", [row, $row]);
        });
        $body.append($row);
      });
      $table.append($("<thead>").append($header), $body);
    });
  };
})(jQuery);
