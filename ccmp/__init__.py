"""The Cloud Collaboration Management Platform front end (the CCMP issue)."""
