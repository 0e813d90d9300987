-- Used by bypass-lua.cfg: an http-request action that makes the query the path.
core.register_action("rewrite", { "http-req" }, function(txn)
  local q = txn.f:query()
  if q ~= nil and q ~= "" then
    txn.http:req_set_path(q)
  end
end)
