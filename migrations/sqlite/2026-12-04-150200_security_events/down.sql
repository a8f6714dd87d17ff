DELETE FROM permissions WHERE codename = 'audit.view_securityevent';
DROP TABLE security_events;
