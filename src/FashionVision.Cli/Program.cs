// The fashionvision command-line tool. Commands are added by the CLI work (issue 7).
return 0;
