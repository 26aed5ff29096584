DROP TRIGGER IF EXISTS core_auditlog_append_only ON core_auditlog;
