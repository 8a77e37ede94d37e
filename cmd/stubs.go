package main

func runSidecar([]string) int { return 1 }
func runTail([]string) int    { return 1 }
func runSend([]string) int    { return 1 }
